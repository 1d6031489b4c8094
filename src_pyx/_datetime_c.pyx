# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled twin of the datetime parser (the Python twin is ``inngest_core/_datetime_py.py``).

The scanner reads the str's own ASCII buffer as ``const unsigned char*`` (a str that is not
ASCII is copied once with every other code point turned into DEL, which no format accepts, so
positions stay the same); no Python object is made until the result, or an error.  The
order of checks, the positions and the messages are the Python twin's: syntax left to right,
then year, month, day, hour, minute, second, offset hours, offset minutes, weekday.
"""

cimport cython
from cpython.datetime cimport (
    PyDateTime_CheckExact,
    PyDateTime_DATE_GET_HOUR,
    PyDateTime_DATE_GET_MICROSECOND,
    PyDateTime_DATE_GET_MINUTE,
    PyDateTime_DATE_GET_SECOND,
    PyDateTime_GET_DAY,
    PyDateTime_GET_MONTH,
    PyDateTime_GET_YEAR,
    datetime_new,
    import_datetime,
)
from libc.stdint cimport int64_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

import datetime as _dt

from inngest_core import _datetime_formats as _formats
from inngest_core._datetime_formats import DATETIME_FORMATS
from inngest_core.errors import datetime_error

__all__ = ["parse_datetime", "detect_format", "format_datetime", "DATETIME_FORMATS"]

import_datetime()


cdef extern from "Python.h":
    bint PyUnicode_IS_ASCII(object)
    bint PyUnicode_CheckExact(object)
    int PyUnicode_KIND(object)
    void* PyUnicode_DATA(object)
    Py_UCS4 PyUnicode_READ(int kind, void* data, Py_ssize_t index) nogil
    Py_ssize_t PyUnicode_GET_LENGTH(object)
    PyObject* PyTuple_GET_ITEM(object, Py_ssize_t)
    ctypedef struct PyObject


cdef tuple NAMES = DATETIME_FORMATS
cdef dict IDS = {name: i for i, name in enumerate(DATETIME_FORMATS)}
cdef Py_ssize_t N_FORMATS = len(NAMES)

# The declarations of _datetime_formats.FORMATS, as C structs indexed by format.
cdef int SCAN_ISO = _formats.SCAN_ISO
cdef int SCAN_EMAIL = _formats.SCAN_EMAIL
cdef int SCAN_RFC850 = _formats.SCAN_RFC850
cdef int SCAN_CTIME = _formats.SCAN_CTIME
cdef int SCAN_EPOCH = _formats.SCAN_EPOCH
cdef int ZONE_NONE = _formats.ZONE_NONE
cdef int ZONE_NAME = _formats.ZONE_NAME
cdef int ZONE_OFFSET = _formats.ZONE_OFFSET
cdef int ZONE_ISO = _formats.ZONE_ISO

cdef struct Spec:
    int scanner, zone, year_digits, epoch_places
    bint strict, date_only, padded_day

cdef enum:
    MAX_FORMATS = 64

cdef Spec SPECS[MAX_FORMATS + 1]


cdef void declare(Py_ssize_t i, object spec):
    SPECS[i].scanner = spec.scanner
    SPECS[i].zone = spec.zone
    SPECS[i].year_digits = spec.year_digits
    SPECS[i].epoch_places = spec.epoch_places
    SPECS[i].strict = spec.strict
    SPECS[i].date_only = spec.date_only
    SPECS[i].padded_day = spec.padded_day


assert N_FORMATS <= MAX_FORMATS
for _i, _spec in enumerate(_formats.FORMATS):
    declare(_i, _spec)
#: Detected ISO 8601 text that is not a bare date: read loosely, then RFC3339 when it kept to
#: it, else ISO8601.
cdef int ISO_AUTO = N_FORMATS
cdef int ISO_STRICT = _formats.detected_format(SCAN_ISO, 4, ZONE_ISO, True)
cdef int ISO_LOOSE = _formats.detected_format(SCAN_ISO, 4, ZONE_ISO, False)
#: The formats the fixed RFC 1123 and RFC 822 layouts are in (a weekday, a two-digit day, a
#: zone name).
cdef int RFC1123_DETECTED = _formats.detected_format(SCAN_EMAIL, 4, ZONE_NAME)
cdef int RFC822_DETECTED = _formats.detected_format(SCAN_EMAIL, 2, ZONE_NAME)
declare(ISO_AUTO, _formats.FORMATS[ISO_LOOSE])

# Detection: the detected format of each shape (scanner, year width, zone rule), or -1.
cdef int DETECTED[5][5][4]
assert all(0 <= f.scanner < 5 and 0 <= f.year_digits < 5 and 0 <= f.zone < 4
           for f in _formats.FORMATS), "a new scanner or zone rule: widen DETECTED"


cdef inline int detected(int scanner, int year_digits, int zone) noexcept nogil:
    return DETECTED[scanner][year_digits][zone]


for _scanner in range(5):
    for _digits in range(5):
        for _zone in range(4):
            DETECTED[_scanner][_digits][_zone] = _formats.detected_format(_scanner, _digits, _zone)

cdef int64_t MIN_US = -62135596800LL * 1000000LL
cdef int64_t MAX_US = 253402300800LL * 1000000LL - 1
cdef int64_t DAY_US = 86400000000LL

cdef object UTC = _dt.timezone.utc

# An aware datetime made in place: the fields are already checked (the scanners validate every
# field before a result is made), so the constructor's own range and tzinfo checks are
# skipped and only the allocation and the stores are paid.  The fields travel as a *stamp*,
# datetime.h's data bytes 0..7 (year high, year low, month, day, hour, minute, second,
# microsecond high) as byte k at bits 8k, and ``low``, the microsecond's two low bytes; the
# stamp is stored with one 8-byte write.  The layout is the public one of datetime.h; the
# import-time check below falls back to the constructor if it ever differs.  ``tz`` is
# borrowed (UTC, or a zone of TZ_CACHE, which keeps it alive).
cdef extern from *:
    """
    #include "datetime.h"
    static inline PyObject *inngest_stamped_datetime(uint64_t stamp, unsigned int low,
                                                     PyObject *tz) {
        PyTypeObject *type = PyDateTimeAPI->DateTimeType;
    #if defined(Py_GIL_DISABLED) || defined(Py_REF_DEBUG) || defined(Py_TRACE_REFS) \
            || PY_VERSION_HEX >= 0x030E0000
        PyDateTime_DateTime *self = (PyDateTime_DateTime *)type->tp_alloc(type, 1);
        if (self == NULL) return NULL;
    #else
        /* What datetime_alloc (Modules/_datetimemodule.c) does for an aware datetime, without
           its indirect call and _Py_NewReference's: the memory from PyObject_Malloc (which
           tracemalloc traces), the type (a reference to it if it is a heap type), a reference
           count of 1.  Builds whose object header needs more (free-threaded, reference
           debugging) and versions not read take tp_alloc. */
        PyDateTime_DateTime *self =
            (PyDateTime_DateTime *)PyObject_Malloc(sizeof(PyDateTime_DateTime));
        if (self == NULL) return PyErr_NoMemory();
        if (type->tp_flags & Py_TPFLAGS_HEAPTYPE) Py_INCREF(type);
        Py_SET_TYPE(self, type);
        Py_SET_REFCNT(self, 1);
    #endif
        self->hashcode = -1;
        self->hastzinfo = 1;
    #if PY_LITTLE_ENDIAN
        memcpy(self->data, &stamp, 8);
    #else
        for (int k = 0; k < 8; k++) self->data[k] = (unsigned char)(stamp >> (8 * k));
    #endif
        self->data[8] = (unsigned char)(low >> 8);
        self->data[9] = (unsigned char)(low & 0xff);
        self->fold = 0;
        Py_INCREF(tz);
        self->tzinfo = tz;
        return (PyObject *)self;
    }
    """
    object inngest_stamped_datetime(uint64_t stamp, unsigned int low, PyObject* tz)


cdef inline uint64_t stamp_of(int y, int mo, int d, int h, int mi, int s, int us) noexcept nogil:
    """The stamp of these fields (``us`` contributes its high byte; ``us & 0xffff`` is the
    ``low`` that goes with it)."""
    return (<uint64_t>(y >> 8) | <uint64_t>(y & 0xff) << 8 | <uint64_t>mo << 16
            | <uint64_t>d << 24 | <uint64_t>h << 32 | <uint64_t>mi << 40 | <uint64_t>s << 48
            | <uint64_t>(us >> 16) << 56)


cdef bint IN_PLACE = False


cdef object stamped_by_constructor(uint64_t stamp, unsigned int low, PyObject* tz):
    return datetime_new(<int>((stamp & 0xff) << 8 | (stamp >> 8) & 0xff), (stamp >> 16) & 0xff,
                        (stamp >> 24) & 0xff, (stamp >> 32) & 0xff, (stamp >> 40) & 0xff,
                        (stamp >> 48) & 0xff, <int>((stamp >> 56) << 16 | low), <object>tz)


cdef inline object stamped(uint64_t stamp, unsigned int low, PyObject* tz):
    if IN_PLACE:
        return inngest_stamped_datetime(stamp, low, tz)
    return stamped_by_constructor(stamp, low, tz)


cdef inline object aware(int y, int mo, int d, int h, int mi, int s, int us, PyObject* tz):
    return stamped(stamp_of(y, mo, d, h, mi, s, us), us & 0xffff, tz)


def _in_place_agrees():
    tz = _dt.timezone(_dt.timedelta(hours=-3, minutes=-30))
    for y, mo, d, h, mi, s, us in ((2023, 7, 18, 7, 31, 5, 123456), (1, 1, 1, 0, 0, 0, 0),
                                   (9999, 12, 31, 23, 59, 59, 999999),
                                   (2000, 2, 29, 12, 0, 0, 65793)):
        for zone in (UTC, tz):
            made = inngest_stamped_datetime(stamp_of(y, mo, d, h, mi, s, us), us & 0xffff,
                                            <PyObject*>zone)
            built = datetime_new(y, mo, d, h, mi, s, us, zone)
            if (type(made) is not _dt.datetime or made != built or hash(made) != hash(built)
                    or repr(made) != repr(built) or made.fold != 0 or made.tzinfo is not zone
                    or made.utcoffset() != built.utcoffset()
                    or stamped_by_constructor(stamp_of(y, mo, d, h, mi, s, us), us & 0xffff,
                                              <PyObject*>zone) != built):
                return False
    return True


IN_PLACE = _in_place_agrees()
cdef list TZ_CACHE = [None] * 2879   # by offset minutes + 1439


cdef PyObject* zone_of(int minutes) except NULL:
    """The fixed-offset zone of ``minutes`` east of UTC, borrowed: UTC, or TZ_CACHE's (made on
    first use), which keeps it alive."""
    if minutes == 0:
        return <PyObject*>UTC
    cdef object tz = TZ_CACHE[minutes + 1439]
    if tz is None:
        tz = _dt.timezone(_dt.timedelta(minutes=minutes))
        TZ_CACHE[minutes + 1439] = tz
    return <PyObject*>tz


ctypedef const unsigned char* cstr

cdef struct Scan:
    cstr s
    Py_ssize_t n
    int name          # the format named by syntax errors
    PyObject* text


cdef struct Fields:
    int year, month, day, hour, minute, second, micro
    int sign, offset_hours, offset_minutes, weekday
    Py_ssize_t p_year, p_month, p_day, p_hour, p_minute, p_second
    Py_ssize_t p_offset_hours, p_offset_minutes, p_weekday, weekday_end
    bint strict


cdef inline void init_fields(Fields* f) noexcept nogil:
    f.year = 1; f.month = 1; f.day = 1
    f.hour = 0; f.minute = 0; f.second = 0; f.micro = 0
    f.sign = 1; f.offset_hours = 0; f.offset_minutes = 0; f.weekday = -1
    f.p_year = 0; f.p_month = 0; f.p_day = 0; f.p_hour = 0; f.p_minute = 0; f.p_second = 0
    f.p_offset_hours = 0; f.p_offset_minutes = 0; f.p_weekday = 0; f.weekday_end = 0
    f.strict = True


cdef inline int at(Scan* sc, Py_ssize_t i) noexcept nogil:
    if i < sc.n:
        return sc.s[i]
    return -1


cdef inline bint is_digit(int c) noexcept nogil:
    return 48 <= c <= 57


cdef inline bint is_letter(int c) noexcept nogil:
    return (65 <= c <= 90) or (97 <= c <= 122)


cdef inline int lower(int c) noexcept nogil:
    if 65 <= c <= 90:
        return c + 32
    return c


cdef int fail(Scan* sc, Py_ssize_t i, str what) except -1:
    raise datetime_error("expected", <object>sc.text, i, NAMES[sc.name], what)


cdef inline int digit(Scan* sc, Py_ssize_t i) except -1:
    cdef int c = at(sc, i)
    if not is_digit(c):
        fail(sc, i, "digit")
    return c - 48


cdef inline int d2(Scan* sc, Py_ssize_t i) except -1:
    cdef int a = digit(sc, i)
    return a * 10 + digit(sc, i + 1)


cdef inline int d4(Scan* sc, Py_ssize_t i) except -1:
    cdef int a = d2(sc, i)
    return a * 100 + d2(sc, i + 2)


cdef inline int expect(Scan* sc, Py_ssize_t i, int c, str what) except -1:
    if at(sc, i) != c:
        fail(sc, i, what)
    return 0


cdef inline int end(Scan* sc, Py_ssize_t i, str what) except -1:
    if i != sc.n:
        fail(sc, i, what)
    return 0


cdef inline Py_ssize_t digit_run(Scan* sc, Py_ssize_t i) noexcept nogil:
    while i < sc.n and is_digit(sc.s[i]):
        i += 1
    return i


cdef inline Py_ssize_t letter_run(Scan* sc, Py_ssize_t i) noexcept nogil:
    while i < sc.n and is_letter(sc.s[i]):
        i += 1
    return i


cdef inline int two_digit_year(int value) noexcept nogil:
    return value + (1900 if value >= 69 else 2000)


cdef Py_ssize_t day12(Scan* sc, Fields* f, Py_ssize_t i) except -1:
    f.p_day = i
    f.day = digit(sc, i)
    cdef int c = at(sc, i + 1)
    if is_digit(c):
        f.day = f.day * 10 + c - 48
        return i + 2
    return i + 1


cdef const char* FULL_WEEKDAYS[7]
FULL_WEEKDAYS[:] = [b"monday", b"tuesday", b"wednesday", b"thursday", b"friday", b"saturday",
                    b"sunday"]


cdef inline unsigned int key3(cstr p) noexcept nogil:
    # OR-ing 0x20 lowers ASCII letters and maps no other ASCII character onto a lower-case
    # letter, so a key equal to a name's key means three letters spelling that name.
    return ((<unsigned int>p[0] | 32u) << 16) | ((<unsigned int>p[1] | 32u) << 8) \
        | (<unsigned int>p[2] | 32u)


cdef inline int month_of(cstr p) noexcept nogil:
    """1..12 for the month name at p (three characters must be readable), else -1."""
    cdef unsigned int k = key3(p)
    if k == 0x6a616e: return 1     # jan
    if k == 0x666562: return 2     # feb
    if k == 0x6d6172: return 3     # mar
    if k == 0x617072: return 4     # apr
    if k == 0x6d6179: return 5     # may
    if k == 0x6a756e: return 6     # jun
    if k == 0x6a756c: return 7     # jul
    if k == 0x617567: return 8     # aug
    if k == 0x736570: return 9     # sep
    if k == 0x6f6374: return 10    # oct
    if k == 0x6e6f76: return 11    # nov
    if k == 0x646563: return 12    # dec
    return -1


cdef inline int weekday_named(cstr p) noexcept nogil:
    """0 (Monday)..6 for the weekday abbreviation at p, else -1."""
    cdef unsigned int k = key3(p)
    if k == 0x6d6f6e: return 0     # mon
    if k == 0x747565: return 1     # tue
    if k == 0x776564: return 2     # wed
    if k == 0x746875: return 3     # thu
    if k == 0x667269: return 4     # fri
    if k == 0x736174: return 5     # sat
    if k == 0x73756e: return 6     # sun
    return -1


cdef inline Py_ssize_t weekday3(Scan* sc, Fields* f, Py_ssize_t i) except -1:
    cdef int k = weekday_named(sc.s + i) if i + 3 <= sc.n else -1
    if k < 0:
        fail(sc, i, "weekday")
    f.weekday = k
    f.p_weekday = i
    f.weekday_end = i + 3
    return i + 3


cdef inline Py_ssize_t month3(Scan* sc, Fields* f, Py_ssize_t i) except -1:
    cdef int k = month_of(sc.s + i) if i + 3 <= sc.n else -1
    if k < 0:
        fail(sc, i, "month")
    f.month = k
    f.p_month = i
    return i + 3


cdef Py_ssize_t time(Scan* sc, Fields* f, Py_ssize_t i) except -1:
    f.p_hour = i
    f.hour = d2(sc, i)
    expect(sc, i + 2, 58, ":")
    f.p_minute = i + 3
    f.minute = d2(sc, i + 3)
    expect(sc, i + 5, 58, ":")
    f.p_second = i + 6
    f.second = d2(sc, i + 6)
    return i + 8


cdef int zone_minutes(cstr p, Py_ssize_t length) noexcept nogil:
    """Minutes east of UTC for the zone name p[:length] (RFC 822 section 5), or -9999."""
    cdef int a = lower(p[0])
    cdef int b, c
    if length == 1:
        return 0 if a == 122 else -9999                                    # z
    b = lower(p[1])
    if length == 2:
        return 0 if a == 117 and b == 116 else -9999                       # ut
    if length != 3:
        return -9999
    c = lower(p[2])
    if a == 117 and b == 116 and c == 99: return 0                         # utc
    if a == 103 and b == 109 and c == 116: return 0                        # gmt
    if c != 116 or (b != 115 and b != 100):                                # ?st ?dt
        return -9999
    if a == 101: return -300 if b == 115 else -240                         # est edt
    if a == 99: return -360 if b == 115 else -300                          # cst cdt
    if a == 109: return -420 if b == 115 else -360                         # mst mdt
    if a == 112: return -480 if b == 115 else -420                         # pst pdt
    return -9999


cdef Py_ssize_t zone_name(Scan* sc, Fields* f, Py_ssize_t i) except -1:
    cdef Py_ssize_t j = letter_run(sc, i)
    if j == i:
        fail(sc, i, "zone")
    cdef int minutes = zone_minutes(sc.s + i, j - i)
    if minutes == -9999:
        text = <object>sc.text
        raise datetime_error("unknown_zone", text, i, NAMES[sc.name], text[i:j])
    if minutes < 0:
        f.sign = -1
        minutes = -minutes
    else:
        f.sign = 1
    f.offset_hours = minutes // 60
    f.offset_minutes = minutes % 60
    return j


cdef Py_ssize_t offset4(Scan* sc, Fields* f, Py_ssize_t i) except -1:
    cdef int c = at(sc, i)
    if c != 43 and c != 45:
        fail(sc, i, "offset")
    f.sign = -1 if c == 45 else 1
    f.p_offset_hours = i + 1
    f.offset_hours = d2(sc, i + 1)
    f.p_offset_minutes = i + 3
    f.offset_minutes = d2(sc, i + 3)
    return i + 5


cdef Py_ssize_t fraction(Scan* sc, Fields* f, Py_ssize_t i) except -1:
    cdef Py_ssize_t j = digit_run(sc, i)
    if j == i:
        fail(sc, i, "digit")
    cdef int micro = 0
    cdef Py_ssize_t k
    for k in range(6):
        micro *= 10
        if i + k < j:
            micro += sc.s[i + k] - 48
    f.micro = micro
    return j


cdef int scan_iso(Scan* sc, Fields* f, bint strict, bint date_only) except -1:
    cdef Py_ssize_t i
    cdef int c
    cdef bint has_seconds = False
    f.p_year = 0
    f.year = d4(sc, 0)
    expect(sc, 4, 45, "-")
    f.p_month = 5
    f.month = d2(sc, 5)
    expect(sc, 7, 45, "-")
    f.p_day = 8
    f.day = d2(sc, 8)
    if date_only:
        return end(sc, 10, "end")
    if sc.n == 10:
        if strict:
            fail(sc, 10, "T")
        f.strict = False
        return 0
    c = sc.s[10]
    if c == 32 and not strict:
        f.strict = False
    elif c != 84 and c != 116:
        fail(sc, 10, "T" if strict else "iso_separator")
    f.p_hour = 11
    f.hour = d2(sc, 11)
    i = 13
    if strict:
        expect(sc, 13, 58, ":")
        f.p_minute = 14
        f.minute = d2(sc, 14)
        expect(sc, 16, 58, ":")
        f.p_second = 17
        f.second = d2(sc, 17)
        i = 19
        has_seconds = True
    elif at(sc, 13) == 58:
        f.p_minute = 14
        f.minute = d2(sc, 14)
        i = 16
        if at(sc, 16) == 58:
            f.p_second = 17
            f.second = d2(sc, 17)
            i = 19
            has_seconds = True
        else:
            f.strict = False
    else:
        f.strict = False
    c = at(sc, i)
    if has_seconds and (c == 46 or (c == 44 and not strict)):
        if c == 44:
            f.strict = False
        i = fraction(sc, f, i + 1)
        c = at(sc, i)
    if c == 90 or c == 122:
        return end(sc, i + 1, "end")
    if c == 43 or c == 45:
        f.sign = -1 if c == 45 else 1
        f.p_offset_hours = i + 1
        f.offset_hours = d2(sc, i + 1)
        i += 3
        if strict:
            expect(sc, i, 58, ":")
            f.p_offset_minutes = i + 1
            f.offset_minutes = d2(sc, i + 1)
            i += 3
        elif at(sc, i) == 58:
            f.p_offset_minutes = i + 1
            f.offset_minutes = d2(sc, i + 1)
            i += 3
        elif is_digit(at(sc, i)):
            f.p_offset_minutes = i
            f.offset_minutes = d2(sc, i)
            i += 2
            f.strict = False
        else:
            f.strict = False
        return end(sc, i, "end")
    if strict:
        fail(sc, i, "rfc3339_offset")
    f.strict = False
    return end(sc, i, "iso_end")


cdef int scan_email(Scan* sc, Fields* f, int fid) except -1:
    cdef Py_ssize_t i = 0
    cdef bint long_year = SPECS[fid].year_digits == 4  # the weekday, seconds are required
    if long_year or is_letter(at(sc, 0)):
        weekday3(sc, f, 0)
        expect(sc, 3, 44, ",")
        expect(sc, 4, 32, " ")
        i = 5
    i = day12(sc, f, i)
    expect(sc, i, 32, " ")
    i = month3(sc, f, i + 1)
    expect(sc, i, 32, " ")
    i += 1
    f.p_year = i
    if long_year:
        f.year = d4(sc, i)
        i += 4
    else:
        f.year = two_digit_year(d2(sc, i))
        i += 2
    expect(sc, i, 32, " ")
    i += 1
    f.p_hour = i
    f.hour = d2(sc, i)
    expect(sc, i + 2, 58, ":")
    f.p_minute = i + 3
    f.minute = d2(sc, i + 3)
    i += 5
    if long_year:
        expect(sc, i, 58, ":")
        f.p_second = i + 1
        f.second = d2(sc, i + 1)
        i += 3
    elif at(sc, i) == 58:
        f.p_second = i + 1
        f.second = d2(sc, i + 1)
        i += 3
    elif at(sc, i) != 32:
        fail(sc, i, "seconds_or_space")
    expect(sc, i, 32, " ")
    i += 1
    if SPECS[fid].zone == ZONE_NAME:
        i = zone_name(sc, f, i)
    else:
        i = offset4(sc, f, i)
    return end(sc, i, "end")


cdef int scan_rfc850(Scan* sc, Fields* f) except -1:
    cdef Py_ssize_t j = letter_run(sc, 0)
    cdef Py_ssize_t i
    cdef int k
    cdef const char* name
    f.weekday = -1
    for k in range(7):
        name = FULL_WEEKDAYS[k]
        i = 0
        while i < j and name[i] != 0 and lower(sc.s[i]) == name[i]:
            i += 1
        if i == j and name[i] == 0:
            f.weekday = k
            break
    if f.weekday < 0:
        fail(sc, 0, "full_weekday")
    f.p_weekday = 0
    f.weekday_end = j
    expect(sc, j, 44, ",")
    expect(sc, j + 1, 32, " ")
    i = day12(sc, f, j + 2)
    expect(sc, i, 45, "-")
    i = month3(sc, f, i + 1)
    expect(sc, i, 45, "-")
    f.p_year = i + 1
    f.year = two_digit_year(d2(sc, i + 1))
    expect(sc, i + 3, 32, " ")
    i = time(sc, f, i + 4)
    expect(sc, i, 32, " ")
    i = zone_name(sc, f, i + 1)
    return end(sc, i, "end")


cdef int scan_ctime(Scan* sc, Fields* f, int fid) except -1:
    cdef Py_ssize_t i
    weekday3(sc, f, 0)
    expect(sc, 3, 32, " ")
    month3(sc, f, 4)
    expect(sc, 7, 32, " ")
    if SPECS[fid].padded_day and at(sc, 8) == 32:
        f.p_day = 9
        f.day = digit(sc, 9)
        i = 10
    else:
        i = day12(sc, f, 8)
    expect(sc, i, 32, " ")
    i = time(sc, f, i + 1)
    expect(sc, i, 32, " ")
    i += 1
    if SPECS[fid].zone == ZONE_NAME:
        i = zone_name(sc, f, i)
        expect(sc, i, 32, " ")
        i += 1
    elif SPECS[fid].zone == ZONE_OFFSET:
        i = offset4(sc, f, i)
        expect(sc, i, 32, " ")
        i += 1
    f.p_year = i
    f.year = d4(sc, i)
    return end(sc, i + 4, "end")


cdef inline int days_in_month(int year, int month) noexcept nogil:
    if month == 2:
        if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
            return 29
        return 28
    if month == 4 or month == 6 or month == 9 or month == 11:
        return 30
    return 31


cdef int WEEKDAY_T[12]
WEEKDAY_T[:] = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4]


cdef inline int weekday_of(int y, int m, int d) noexcept nogil:
    """0 for Monday (Sakamoto's method, which counts from Sunday); ``y`` is at least 1, so the
    sums are unsigned (divisions without sign fix-ups)."""
    cdef unsigned int u = <unsigned int>(y - 1 if m < 3 else y)
    return <int>((u + u // 4 - u // 100 + u // 400 + <unsigned int>(WEEKDAY_T[m - 1] + d + 6))
                 % 7)


cdef int validate(Scan* sc, Fields* f) except -1:
    if f.year < 1 or f.year > 9999:
        bad(sc, "year_range", f.p_year, f.year)
    if f.month < 1 or f.month > 12:
        bad(sc, "month_range", f.p_month, f.month)
    if f.day < 1 or f.day > days_in_month(f.year, f.month):
        raise datetime_error("day_range", <object>sc.text, f.p_day, NAMES[sc.name],
                             value=f.day, year=f.year, month=f.month)
    if f.hour > 23:
        bad(sc, "hour_range", f.p_hour, f.hour)
    if f.minute > 59:
        bad(sc, "minute_range", f.p_minute, f.minute)
    if f.second == 60:
        bad(sc, "leap_second", f.p_second, 60)
    if f.second > 60:
        bad(sc, "second_range", f.p_second, f.second)
    if f.offset_hours > 23:
        bad(sc, "offset_hour_range", f.p_offset_hours, f.offset_hours)
    if f.offset_minutes > 59:
        bad(sc, "offset_minute_range", f.p_offset_minutes, f.offset_minutes)
    if f.weekday >= 0 and f.weekday != weekday_of(f.year, f.month, f.day):
        text = <object>sc.text
        raise datetime_error("weekday", text, f.p_weekday, NAMES[sc.name],
                             text[f.p_weekday:f.weekday_end], year=f.year, month=f.month,
                             day=f.day)
    return 0


cdef int bad(Scan* sc, str code, Py_ssize_t position, int value) except -1:
    raise datetime_error(code, <object>sc.text, position, NAMES[sc.name], value=value)


cdef int predict(Scan* sc) except -1:
    """The one format the text can be in, from its shape; raises when it has none."""
    cdef Py_ssize_t n = sc.n
    cdef Py_ssize_t k, i, j, last, before
    cdef int c
    if n == 0:
        raise datetime_error("undetectable", <object>sc.text, 0, None, "start")
    c = sc.s[0]
    if is_digit(c):
        k = digit_run(sc, 0)
        if k == 4 and at(sc, 4) == 45:
            return detected(SCAN_ISO, 4, ZONE_NONE) if n == 10 else ISO_AUTO
        if at(sc, k) == 32:
            return detected(SCAN_EMAIL, 2, zone_kind(sc))
        return detected(SCAN_EPOCH, 4, ZONE_NONE)
    if c == 43 or c == 45:
        return detected(SCAN_EPOCH, 4, ZONE_NONE)
    if is_letter(c):
        k = letter_run(sc, 0)
        c = at(sc, k)
        if c == 44:
            if k != 3:
                return detected(SCAN_RFC850, 2, ZONE_NAME)
            # "Mon, 2 Jan 2006 ..." or "Mon, 2 Jan 06 ...": the year's width decides.
            i = digit_run(sc, 5 if n > 5 else n) + 5
            if i > n:
                i = n
            j = digit_run(sc, i)
            return detected(SCAN_EMAIL, 2 if j - i == 2 else 4, zone_kind(sc))
        if c == 32:
            # The zone, if any, is the word before the year.
            last = n - 1
            while sc.s[last] != 32:
                last -= 1
            before = last - 1
            while before >= 0 and sc.s[before] != 32:
                before -= 1
            c = sc.s[before + 1] if before >= 0 else -1
            if c == 43 or c == 45:
                return detected(SCAN_CTIME, 4, ZONE_OFFSET)
            return detected(SCAN_CTIME, 4, ZONE_NAME if is_letter(c) else ZONE_NONE)
        raise datetime_error("undetectable", <object>sc.text, k, None, "after_name")
    raise datetime_error("undetectable", <object>sc.text, 0, None, "start")


cdef int zone_kind(Scan* sc) noexcept nogil:
    """The zone rule of the text's last word."""
    cdef Py_ssize_t last = sc.n - 1
    while last >= 0 and sc.s[last] != 32:
        last -= 1
    cdef int c = at(sc, last + 1)
    if c == 43 or c == 45:
        return ZONE_OFFSET
    return ZONE_NAME


cdef int scan_epoch(Scan* sc, int fid, int64_t* out) except -1:
    cdef Py_ssize_t i = 0, j, k, start, frac_start = 0, frac_end = 0
    cdef int c = at(sc, 0)
    cdef bint negative = c == 45
    cdef int places = SPECS[fid].epoch_places  # fraction digits that make whole microseconds
    cdef int limit = 18 - places  # years 1..9999 are under 10**12 s
    cdef int64_t unit = 1
    cdef int64_t micros = 0
    cdef int64_t frac = 0
    cdef bint tail = False
    if c == 43 or c == 45:
        i = 1
    j = digit_run(sc, i)
    if j == i:
        fail(sc, i, "digit")
    if at(sc, j) == 46:
        k = digit_run(sc, j + 1)
        if k == j + 1:
            fail(sc, k, "digit")
        frac_start = j + 1
        frac_end = k
        end(sc, k, "end")
    else:
        end(sc, j, "epoch_end")
    start = i
    while start < j and sc.s[start] == 48:
        start += 1
    if j - start > limit:
        raise datetime_error("epoch_range", <object>sc.text, 0, NAMES[fid])
    for k in range(start, j):
        micros = micros * 10 + (sc.s[k] - 48)
    for k in range(places):
        frac *= 10
        if frac_start + k < frac_end:
            frac += sc.s[frac_start + k] - 48
    for k in range(places):
        unit *= 10
    micros = micros * unit + frac
    if negative:
        # Truncating the instant to microseconds is a floor: a cut-off tail moves it earlier.
        k = frac_start + places
        while k < frac_end:
            if sc.s[k] != 48:
                tail = True
                break
            k += 1
        micros = -micros - (1 if tail else 0)
    if micros < MIN_US or micros > MAX_US:
        raise datetime_error("epoch_range", <object>sc.text, 0, NAMES[fid])
    out[0] = micros
    return 0


cdef object epoch_datetime(int64_t micros):
    cdef int64_t days = micros // DAY_US
    cdef int64_t rest = micros % DAY_US
    if rest < 0:
        rest += DAY_US
        days -= 1
    # Howard Hinnant's civil_from_days.
    cdef int64_t z = days + 719468
    cdef int64_t era = (z if z >= 0 else z - 146096) // 146097
    cdef int64_t doe = z - era * 146097
    cdef int64_t yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    cdef int64_t doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    cdef int64_t mp = (5 * doy + 2) // 153
    cdef int d = <int>(doy - (153 * mp + 2) // 5 + 1)
    cdef int m = <int>(mp + 3 if mp < 10 else mp - 9)
    cdef int y = <int>(yoe + era * 400 + (1 if m <= 2 else 0))
    cdef int64_t secs = rest // 1000000
    return aware(y, m, d, <int>(secs // 3600), <int>(secs // 60 % 60), <int>(secs % 60),
                 <int>(rest % 1000000), <PyObject*>UTC)


cdef int run(Scan* sc, int fid, Fields* f) except -1:
    """Scan and check ``text`` in format ``fid``; returns the format it is in."""
    init_fields(f)
    cdef int scanner = SPECS[fid].scanner
    sc.name = ISO_LOOSE if fid == ISO_AUTO else fid
    if scanner == SCAN_ISO:
        scan_iso(sc, f, SPECS[fid].strict, SPECS[fid].date_only)
        if fid == ISO_AUTO:
            sc.name = ISO_STRICT if f.strict else ISO_LOOSE
    elif scanner == SCAN_EMAIL:
        scan_email(sc, f, fid)
    elif scanner == SCAN_RFC850:
        scan_rfc850(sc, f)
    else:
        scan_ctime(sc, f, fid)
    validate(sc, f)
    return sc.name


# --------------------------------------------------------------------------- fast layer
# For the common shapes: plain locals, no positions, no errors.  A fast function answers
# True with a valid result or False, and on False the reference scanner above reads the text
# again and says what is wrong.  Only used on a str's own (NUL-terminated) ASCII buffer.

cdef struct Out:
    int year, month, day, hour, minute, second, micro, offset
    # The fixed RFC 1123 / RFC 822 readers leave the fields unset and give the datetime's data
    # bytes instead (``stamp``, byte k at bits 8k; never 0, since the month byte is not).
    uint64_t stamp


cdef inline int dig2(cstr p) noexcept nogil:
    """The two digits at p, or -1."""
    cdef unsigned int a = <unsigned int>p[0] - 48u
    cdef unsigned int b
    if a > 9u:
        return -1
    b = <unsigned int>p[1] - 48u
    if b > 9u:
        return -1
    return <int>(a * 10u + b)


cdef inline bint valid(Out* o, int weekday) noexcept nogil:
    if o.year < 1 or o.month < 1 or o.month > 12 or o.day < 1:
        return False
    if o.day > days_in_month(o.year, o.month):
        return False
    if o.hour > 23 or o.minute > 59 or o.second > 59:
        return False
    return weekday < 0 or weekday == weekday_of(o.year, o.month, o.day)


cdef inline bint offset4_fast(cstr p, Out* o) noexcept nogil:
    """``+hhmm`` at p (five characters must be readable)."""
    cdef int c = p[0]
    cdef int oh, om
    if c != 43 and c != 45:
        return False
    oh = dig2(p + 1)
    om = dig2(p + 3)
    if oh < 0 or om < 0 or oh > 23 or om > 59:
        return False
    o.offset = -(oh * 60 + om) if c == 45 else oh * 60 + om
    return True


cdef inline Py_ssize_t zone_fast(cstr p, Py_ssize_t i, Py_ssize_t n, Out* o) noexcept nogil:
    """A zone name at i, ending at n or a space; its end, or -1."""
    cdef Py_ssize_t j = i
    cdef int minutes
    while j < n and is_letter(p[j]):
        j += 1
    if j == i:
        return -1
    minutes = zone_minutes(p + i, j - i)
    if minutes == -9999:
        return -1
    o.offset = minutes
    return j


# Fixed layouts read eight bytes at a time: a Window says, for the eight bytes at some place,
# which must be digits and which must be a given character (a letter in either case), so one
# load and a few mask operations check them all.  Windows are made from templates at import
# by loading the template's own bytes, so they hold on any byte order.
cdef struct Window:
    uint64_t high           # 0xF0 in each digit byte
    uint64_t three          # 0x30 in each digit byte
    uint64_t six            # 0x06 in each digit byte
    uint64_t fixed_mask     # 0xFF in each fixed byte (0xDF for a letter: either case)
    uint64_t fixed_value


cdef inline uint64_t load8(cstr p) noexcept nogil:
    cdef uint64_t w
    memcpy(&w, p, 8)
    return w


cdef inline bint fits(cstr p, Window* w) noexcept nogil:
    """The eight bytes at p are as ``w`` says.  A digit byte is 0x30..0x39: its high nibble
    is 3, and adding 6 leaves it 3 (0x3A..0x3F would carry into it); no byte carries into the
    next, since the high nibbles are checked on the bytes as they are."""
    cdef uint64_t x = load8(p)
    return (((x & w.fixed_mask) ^ w.fixed_value) | ((x & w.high) ^ w.three)
            | (((x + w.six) & w.high) ^ w.three)) == 0


cdef uint64_t word(bytearray lanes):
    cdef bytes b = bytes(lanes)
    return load8(<cstr>b)


cdef Window window(bytes template):
    """``d`` a digit, ``?`` any byte, a letter that letter in either case, else that byte."""
    cdef bytearray high = bytearray(8), three = bytearray(8), six = bytearray(8)
    cdef bytearray mask = bytearray(8), value = bytearray(8)
    cdef Window w
    assert len(template) == 8
    for k, ch in enumerate(template):
        if ch == 100:  # d
            high[k] = 0xF0
            three[k] = 0x30
            six[k] = 0x06
        elif ch != 63:  # ?
            mask[k] = 0xDF if is_letter(ch) else 0xFF
            value[k] = ch & mask[k]
    w.high = word(high)
    w.three = word(three)
    w.six = word(six)
    w.fixed_mask = word(mask)
    w.fixed_value = word(value)
    return w


# RFC 3339: "2006-01-02T15:04:05" is bytes 0..7, 8..10 (in the window at 8) and 11..18.
cdef Window ISO_DATE = window(b"dddd-dd-")
cdef Window ISO_DAY = window(b"ddT?????")
cdef Window ISO_TIME = window(b"dd:dd:dd")
# RFC 1123 with a two-digit day: "Mon, 02 Jan 2006 15:04:05 MST"; bytes 24 and 25 are read
# one by one, the zone name (1 to 3 letters) from 26 to the end.
cdef Window RFC1123_HEAD = window(b"???, dd ")
cdef Window RFC1123_YEAR = window(b"??? dddd")
cdef Window RFC1123_TIME = window(b" dd:dd:d")
# RFC 822 with a two-digit day: "02 Jan 06 15:04 MST" or "02 Jan 06 15:04:05 MST".
cdef Window RFC822_HEAD = window(b"dd ??? d")
cdef Window RFC822_TIME = window(b"d dd:dd?")

# The fixed layouts read a name with one 4-byte load: key4 is the name and the byte after it
# (a space or a comma the layout's window has checked) with ASCII letters lowered, in the
# machine's byte order; the tables below are made with key4 itself, so they agree with it.
cdef uint32_t LOWER4


cdef inline uint32_t load4(cstr p) noexcept nogil:
    cdef uint32_t w
    memcpy(&w, p, 4)
    return w


cdef inline uint32_t key4(cstr p) noexcept nogil:
    # OR-ing 0x20 lowers ASCII letters and maps no other ASCII character onto a lower-case
    # letter, and leaves a space and a comma as they are.
    return load4(p) | LOWER4


# Month names by a perfect hash of key4: (key * MONTH_MULTIPLIER) >> 28 (32 bits) is a
# different slot for each of the twelve (the multiplier is found at import, for this byte
# order); the slot's name is then compared whole.
cdef uint32_t MONTH_MULTIPLIER
cdef int MONTH_SLOT[16]
cdef uint32_t MONTH_KEY[13]
cdef uint32_t WEEKDAY_KEY[7]     # "mon," ...
cdef uint32_t GMT_KEY, UTC_KEY   # " gmt", " utc": the zone with the space before it


cdef inline unsigned int month_slot(uint32_t key) noexcept nogil:
    return <uint32_t>(key * MONTH_MULTIPLIER) >> 28


cdef inline int month_hashed(cstr p) noexcept nogil:
    """The month named at p and followed by a space: 1..12, or -1."""
    cdef uint32_t k = key4(p)
    cdef int m = MONTH_SLOT[month_slot(k)]
    return m if MONTH_KEY[m] == k else -1


cdef uint32_t key4_of(bytes four):
    return key4(<cstr>four)


def _tables():
    global LOWER4, MONTH_MULTIPLIER, GMT_KEY, UTC_KEY
    LOWER4 = load4(<cstr>b"\x20\x20\x20\x20")
    keys = [key4_of(name.encode() + b" ") for name in _formats.MONTH_ABBR]
    MONTH_MULTIPLIER = 0x1d21d7
    while len({month_slot(k) for k in keys}) < 12:
        MONTH_MULTIPLIER += 2
    for k in range(16):
        MONTH_SLOT[k] = 0
    MONTH_KEY[0] = 0  # the slot of no month: no key4 is 0
    for m, key in enumerate(keys, 1):
        MONTH_SLOT[month_slot(key)] = m
        MONTH_KEY[m] = key
    for d, name in enumerate(_formats.WEEKDAY_ABBR):
        WEEKDAY_KEY[d] = key4_of(name.encode() + b",")
    GMT_KEY = key4_of(b" GMT")
    UTC_KEY = key4_of(b" UTC")


_tables()


cdef inline int pair(cstr p) noexcept nogil:
    """The two digits at p, already known to be digits."""
    return (p[0] - 48) * 10 + p[1] - 48


cdef inline int zone_at(cstr p, Py_ssize_t length) noexcept nogil:
    """zone_minutes of the name p[:length] (p[-1] a space), with GMT and UTC first: the names
    these layouts mostly carry."""
    cdef uint32_t k
    if length == 3:
        k = key4(p - 1)
        if k == GMT_KEY or k == UTC_KEY:
            return 0
    return zone_minutes(p, length)


cdef inline bint fixed_rfc1123(cstr p, Py_ssize_t n, Out* o) noexcept nogil:
    """RFC 1123 with a two-digit day and a zone name, as fast_email reads it, into ``o.stamp``
    and ``o.offset``; False for any other text (fast_email then reads it)."""
    cdef int minutes, month, day, year, hour, minute, second
    if n < 27 or n > 29:
        return False
    if not (fits(p, &RFC1123_HEAD) & fits(p + 8, &RFC1123_YEAR) & fits(p + 16, &RFC1123_TIME)):
        return False
    if <unsigned int>p[24] - 48u > 9u or p[25] != 32:
        return False
    month = month_hashed(p + 8)
    minutes = zone_at(p + 26, n - 26)
    day = pair(p + 5)
    year = pair(p + 12) * 100 + pair(p + 14)
    hour = pair(p + 17)
    minute = pair(p + 20)
    second = pair(p + 23)
    if (month < 0 or minutes == -9999 or year == 0 or day == 0
            or day > days_in_month(year, month) or hour > 23 or minute > 59 or second > 59
            or WEEKDAY_KEY[weekday_of(year, month, day)] != key4(p)):
        return False
    o.stamp = stamp_of(year, month, day, hour, minute, second, 0)
    o.offset = minutes
    return True


cdef inline bint fixed_rfc822(cstr p, Py_ssize_t n, Out* o) noexcept nogil:
    """RFC 822 with a two-digit day and a zone name, as fast_email reads it, into ``o.stamp``
    and ``o.offset``; False for any other text."""
    cdef Py_ssize_t zone = 16
    cdef int minutes, month, day, year, hour, minute
    cdef int second = 0
    if n < 17 or n > 22 or not (fits(p, &RFC822_HEAD) & fits(p + 8, &RFC822_TIME)):
        return False
    if p[15] == 58:
        if n < 20 or <unsigned int>p[16] - 48u > 9u or <unsigned int>p[17] - 48u > 9u \
                or p[18] != 32:
            return False
        second = pair(p + 16)
        zone = 19
    elif p[15] != 32:
        return False
    month = month_hashed(p + 3)
    minutes = zone_at(p + zone, n - zone)
    day = pair(p)
    year = two_digit_year(pair(p + 7))
    hour = pair(p + 10)
    minute = pair(p + 13)
    if (month < 0 or minutes == -9999 or day == 0 or day > days_in_month(year, month)
            or hour > 23 or minute > 59 or second > 59):
        return False
    o.stamp = stamp_of(year, month, day, hour, minute, second, 0)
    o.offset = minutes
    return True


cdef inline bint fast_rfc3339(cstr p, Py_ssize_t n, Out* o) noexcept nogil:
    cdef int c, oh, om, micro, k
    cdef Py_ssize_t i, j
    if n < 20 or not (fits(p, &ISO_DATE) & fits(p + 8, &ISO_DAY) & fits(p + 11, &ISO_TIME)):
        return False
    o.year = pair(p) * 100 + pair(p + 2)
    o.month = pair(p + 5)
    o.day = pair(p + 8)
    o.hour = pair(p + 11)
    o.minute = pair(p + 14)
    o.second = pair(p + 17)
    i = 19
    micro = 0
    if p[19] == 46:
        i = 20
        j = 20
        while j < n and is_digit(p[j]):
            j += 1
        if j == i:
            return False
        for k in range(6):
            micro *= 10
            if i + k < j:
                micro += p[i + k] - 48
        i = j
    o.micro = micro
    if i >= n:
        return False
    c = p[i]
    if (c | 32) == 122:
        if i + 1 != n:
            return False
        o.offset = 0
    else:
        if (c != 43 and c != 45) or i + 6 != n or p[i + 3] != 58:
            return False
        oh = dig2(p + i + 1)
        om = dig2(p + i + 4)
        if oh < 0 or om < 0 or oh > 23 or om > 59:
            return False
        o.offset = -(oh * 60 + om) if c == 45 else oh * 60 + om
    return valid(o, -1)


cdef int fast_email(cstr p, Py_ssize_t n, int fid, Out* o) noexcept nogil:
    """RFC1123, RFC1123Z, RFC822, RFC822Z; ``fid`` -1 reads whichever of them the text is.
    Returns the format, or -1."""
    cdef bint long_year
    cdef bint numeric
    cdef int weekday = -1
    cdef int a, b
    cdef Py_ssize_t i = 0
    if n < 15:
        return -1
    if (fid >= 0 and SPECS[fid].year_digits == 4) or is_letter(p[0]):
        if p[3] != 44 or p[4] != 32:
            return -1
        weekday = weekday_named(p)
        if weekday < 0:
            return -1
        i = 5
    a = dig2(p + i)  # a two-digit day, else one digit
    if a >= 0:
        o.day = a
        i += 2
    else:
        a = <int>p[i] - 48
        if a < 0 or a > 9:
            return -1
        o.day = a
        i += 1
    # " Jan 2006 15:04" or " Jan 06 15:04", then ":05" and " " and the zone
    if i + 14 > n or p[i] != 32 or p[i + 4] != 32:
        return -1
    if fid < 0:
        long_year = is_digit(p[i + 7])
    else:
        long_year = SPECS[fid].year_digits == 4
    if long_year and (i + 16 > n or weekday < 0):
        return -1
    o.month = month_of(p + i + 1)
    if o.month < 0:
        return -1
    i += 5
    if long_year:
        a = dig2(p + i)
        b = dig2(p + i + 2)
        if a < 0 or b < 0:
            return -1
        o.year = a * 100 + b
        i += 4
    else:
        a = dig2(p + i)
        if a < 0:
            return -1
        o.year = two_digit_year(a)
        i += 2
    if p[i] != 32 or p[i + 3] != 58:
        return -1
    o.hour = dig2(p + i + 1)
    o.minute = dig2(p + i + 4)
    if o.hour < 0 or o.minute < 0:
        return -1
    i += 6
    o.second = 0
    if p[i] == 58:
        o.second = dig2(p + i + 1)
        if o.second < 0:
            return -1
        i += 3
    elif long_year:
        return -1
    if i >= n or p[i] != 32:
        return -1
    i += 1
    if fid < 0:
        numeric = p[i] == 43 or p[i] == 45
        fid = detected(SCAN_EMAIL, 4 if long_year else 2, ZONE_OFFSET if numeric else ZONE_NAME)
    else:
        numeric = SPECS[fid].zone == ZONE_OFFSET
    if numeric:
        if i + 5 != n or not offset4_fast(p + i, o):
            return -1
    elif zone_fast(p, i, n, o) != n:
        return -1
    o.micro = 0
    return fid if valid(o, weekday) else -1


cdef int fast_ctime(cstr p, Py_ssize_t n, int fid, Out* o) noexcept nogil:
    """UNIX, ANSIC, RUBY; ``fid`` -1 reads whichever of them the text is.  Returns the
    format, or -1."""
    cdef int weekday, a, b, c
    cdef bint padded
    cdef Py_ssize_t i, j
    if n < 23 or p[3] != 32 or p[7] != 32:
        return -1
    weekday = weekday_named(p)
    o.month = month_of(p + 4)
    if weekday < 0 or o.month < 0:
        return -1
    padded = p[8] == 32
    if padded:
        if fid >= 0 and not SPECS[fid].padded_day:
            return -1
        a = <int>p[9] - 48
        if a < 0 or a > 9:
            return -1
        i = 10
    else:
        a = dig2(p + 8)
        i = 10
        if a < 0:
            a = <int>p[8] - 48
            if a < 0 or a > 9:
                return -1
            i = 9
    o.day = a
    if i + 10 > n or p[i] != 32 or p[i + 3] != 58 or p[i + 6] != 58 or p[i + 9] != 32:
        return -1
    o.hour = dig2(p + i + 1)
    o.minute = dig2(p + i + 4)
    o.second = dig2(p + i + 7)
    if o.hour < 0 or o.minute < 0 or o.second < 0:
        return -1
    i += 10
    o.offset = 0
    if fid < 0:
        c = p[i]
        fid = detected(SCAN_CTIME, 4, ZONE_NAME if is_letter(c)
                       else (ZONE_OFFSET if c == 43 or c == 45 else ZONE_NONE))
        if padded and not SPECS[fid].padded_day:
            return -1
    if SPECS[fid].zone == ZONE_NAME:
        j = zone_fast(p, i, n, o)
        if j < 0 or j >= n or p[j] != 32:
            return -1
        i = j + 1
    elif SPECS[fid].zone == ZONE_OFFSET:
        if i + 6 > n or p[i + 5] != 32 or not offset4_fast(p + i, o):
            return -1
        i += 6
    if i + 4 != n:
        return -1
    a = dig2(p + i)
    b = dig2(p + i + 2)
    if a < 0 or b < 0:
        return -1
    o.year = a * 100 + b
    o.micro = 0
    return fid if valid(o, weekday) else -1


cdef inline int fast_detected(cstr p, Py_ssize_t n, Out* o) noexcept nogil:
    """The format ``p``'s shape says it is in, read into ``o``; -1 when the fast layer cannot
    tell."""
    cdef int c
    if n >= 20 and p[4] == 45:
        return ISO_STRICT if fast_rfc3339(p, n, o) else -1
    c = p[0] if n > 0 else 0
    if is_letter(c) and n > 3:
        if p[3] == 44:
            if fixed_rfc1123(p, n, o):
                return RFC1123_DETECTED
            return fast_email(p, n, -1, o)
        if p[3] == 32:
            return fast_ctime(p, n, -1, o)
    elif is_digit(c):
        if fixed_rfc822(p, n, o):
            return RFC822_DETECTED
        return fast_email(p, n, -1, o)
    return -1


cdef inline int fast(cstr p, Py_ssize_t n, int fid, Out* o) noexcept nogil:
    """The format ``p`` is in (``fid``, or for -1 whichever format its shape says), read into
    ``o``; -1 when the fast layer cannot tell."""
    if fid < 0:
        return fast_detected(p, n, o)
    cdef int scanner = SPECS[fid].scanner
    if scanner == SCAN_ISO and not SPECS[fid].date_only:
        return fid if fast_rfc3339(p, n, o) else -1
    if scanner == SCAN_EMAIL:
        if fid == RFC1123_DETECTED and fixed_rfc1123(p, n, o):
            return fid
        if fid == RFC822_DETECTED and fixed_rfc822(p, n, o):
            return fid
        return fast_email(p, n, fid, o)
    if scanner == SCAN_CTIME:
        return fast_ctime(p, n, fid, o)
    return -1


cdef unsigned char* ascii_copy(object text, Py_ssize_t n) except NULL:
    """A copy of a str that is not ASCII, with DEL (which no format accepts) for every code
    point past ASCII, so the scanner's positions are the str's own."""
    cdef unsigned char* copy = <unsigned char*>malloc(n if n > 0 else 1)
    cdef Py_ssize_t i
    cdef Py_UCS4 ch
    if copy == NULL:
        raise MemoryError()
    cdef int kind = PyUnicode_KIND(text)
    cdef void* data = PyUnicode_DATA(text)
    for i in range(n):
        ch = PyUnicode_READ(kind, data, i)
        copy[i] = <unsigned char>ch if ch < 128 else 127
    return copy


cdef inline int format_id(object format, object text) except -1:
    cdef object fid
    cdef int k
    for k in range(N_FORMATS):  # names written as literals are interned: identity finds them first
        if format is <object>PyTuple_GET_ITEM(NAMES, k):
            return k
    if isinstance(format, str):
        fid = IDS.get(format)
        if fid is not None:
            return <int>fid
        raise datetime_error("unknown_format", text, None, None, format)
    raise TypeError(f"datetime format must be str or None, not {type(format).__name__}")


cdef object made_from_fields(Out* o):
    cdef PyObject* tz = <PyObject*>UTC if o.offset == 0 else zone_of(o.offset)
    if o.stamp != 0:
        return stamped(o.stamp, 0, tz)
    return aware(o.year, o.month, o.day, o.hour, o.minute, o.second, o.micro, tz)


cdef inline object made(Out* o):
    """The datetime a fast reader read into ``o`` (whose ``stamp`` was 0 before it read); a
    stamp in UTC, the fixed layouts' usual answer, is built right here."""
    if o.stamp != 0 and o.offset == 0 and IN_PLACE:
        return inngest_stamped_datetime(o.stamp, 0, <PyObject*>UTC)
    return made_from_fields(o)


cdef inline object parse_scan(Scan* sc, object format, bint try_fast):
    """``try_fast``: the fast layer may read it (a str's own ASCII buffer, not yet tried)."""
    cdef Fields f
    cdef Out o
    cdef int fid, minutes
    cdef int64_t micros
    o.stamp = 0
    fid = -1 if format is None else format_id(format, <object>sc.text)
    if try_fast and fast(sc.s, sc.n, fid, &o) >= 0:
        return made(&o)
    if fid < 0:
        fid = predict(sc)
    if SPECS[fid].scanner == SCAN_EPOCH:
        sc.name = fid
        scan_epoch(sc, fid, &micros)
        return epoch_datetime(micros)
    run(sc, fid, &f)
    minutes = f.offset_hours * 60 + f.offset_minutes
    return aware(f.year, f.month, f.day, f.hour, f.minute, f.second, f.micro,
                 zone_of(-minutes if f.sign < 0 else minutes))


cdef str detect_scan(Scan* sc, bint ascii):
    cdef Fields f
    cdef Out o
    cdef int64_t micros
    cdef int fid = fast(sc.s, sc.n, -1, &o) if ascii else -1
    if fid >= 0:
        return NAMES[fid]
    fid = predict(sc)
    if SPECS[fid].scanner == SCAN_EPOCH:
        sc.name = fid
        scan_epoch(sc, fid, &micros)
        return NAMES[fid]
    return NAMES[run(sc, fid, &f)]


cdef inline object parse_text(object text, object format, bint fast_tried):
    """``fast_tried``: the fast layer has already left this text (detected)."""
    cdef Scan sc
    if not isinstance(text, str):
        raise TypeError(f"datetime text must be str, not {type(text).__name__}")
    sc.n = PyUnicode_GET_LENGTH(text)
    sc.text = <PyObject*>text
    if PyUnicode_IS_ASCII(text):
        sc.s = <cstr>PyUnicode_DATA(text)
        return parse_scan(&sc, format, not fast_tried)
    sc.s = ascii_copy(text, sc.n)
    try:
        return parse_scan(&sc, format, False)
    finally:
        free(<void*>sc.s)


@cython.binding(False)  # a plain C function: no cyfunction call overhead
def parse_datetime(text, format=None):
    """Parse ``text`` into an aware datetime (see the Python twin)."""
    return parse_text(text, format, False)


# The entry point callers get: a METH_FASTCALL function that takes one or two positional
# arguments without Cython's keyword-aware argument parsing; any other call (keywords, a wrong
# count) goes to the def above, so its behaviour and its errors are the same.
cdef extern from "Python.h":
    ctypedef struct PyMethodDef:
        const char* ml_name
        void* ml_meth
        int ml_flags
        const char* ml_doc
    object PyCFunction_NewEx(PyMethodDef*, PyObject*, object)
    object PyObject_Vectorcall(object, PyObject**, size_t, PyObject*)
    enum:
        METH_FASTCALL
        METH_KEYWORDS


cdef object KEYWORDS_PARSE_DATETIME = parse_datetime


cdef object parse_datetime_entry(object module, PyObject** args, Py_ssize_t nargs,
                                 PyObject* kwnames):
    cdef PyObject* text
    cdef Out o
    if kwnames == NULL:
        if nargs == 1:
            # The common call, detected on an exact ASCII str, is answered here; what the
            # fast layer leaves goes to the reference scanner.
            text = args[0]
            o.stamp = 0
            if PyUnicode_CheckExact(<object>text) and PyUnicode_IS_ASCII(<object>text):
                if fast_detected(<cstr>PyUnicode_DATA(<object>text),
                                 PyUnicode_GET_LENGTH(<object>text), &o) >= 0:
                    return made(&o)
                return parse_text(<object>text, None, True)
            return parse_text(<object>text, None, False)
        if nargs == 2:
            return parse_text(<object>args[0], <object>args[1], False)
    return PyObject_Vectorcall(KEYWORDS_PARSE_DATETIME, args, <size_t>nargs, kwnames)


cdef PyMethodDef PARSE_DATETIME_DEF
PARSE_DATETIME_DEF.ml_name = "parse_datetime"
PARSE_DATETIME_DEF.ml_meth = <void*>parse_datetime_entry
PARSE_DATETIME_DEF.ml_flags = METH_FASTCALL | METH_KEYWORDS
cdef bytes PARSE_DATETIME_DOC = parse_datetime.__doc__.encode()
PARSE_DATETIME_DEF.ml_doc = PARSE_DATETIME_DOC
parse_datetime = PyCFunction_NewEx(&PARSE_DATETIME_DEF, NULL, __name__)


@cython.binding(False)  # a plain C function: no cyfunction call overhead
def detect_format(text):
    """The name of the format ``text`` is in (see the Python twin)."""
    cdef Scan sc
    if not isinstance(text, str):
        raise TypeError(f"datetime text must be str, not {type(text).__name__}")
    sc.n = PyUnicode_GET_LENGTH(text)
    sc.text = <PyObject*>text
    if PyUnicode_IS_ASCII(text):
        sc.s = <cstr>PyUnicode_DATA(text)
        return detect_scan(&sc, True)
    sc.s = ascii_copy(text, sc.n)
    try:
        return detect_scan(&sc, False)
    finally:
        free(<void*>sc.s)


# --------------------------------------------------------------------------- writer kernels
# format_datetime is _datetime_formats' one function; what it calls per value for RFC3339 and
# ISO8601 is written here straight into a new ASCII str instead of through isoformat() and
# slicing.  The text is the declared writer's, byte for byte (tests/test_datetime_speedpaths.py
# compares them): isoformat()'s "YYYY-MM-DDTHH:MM:SS", the fraction when there is one
# (RFC3339 cuts its trailing zeros), then "Z" (RFC3339 at offset 0) or "+hh:mm".  A subclass
# of datetime may write itself differently: it goes to the declared writer.
cdef extern from "Python.h":
    object PyUnicode_New(Py_ssize_t size, Py_UCS4 maxchar)


cdef inline void put2(unsigned char* b, int v) noexcept nogil:
    b[0] = <unsigned char>(48 + v // 10)
    b[1] = <unsigned char>(48 + v % 10)


cdef object write_iso(object value, int minutes, bint go):
    cdef int micro = PyDateTime_DATE_GET_MICROSECOND(value)
    cdef int year = PyDateTime_GET_YEAR(value)
    cdef int places = 6 if micro else 0
    cdef int rest = micro
    cdef bint zulu = go and minutes == 0
    cdef int k, absolute
    if go and micro:
        while rest % 10 == 0:
            rest //= 10
            places -= 1
    cdef Py_ssize_t n = 19 + (places + 1 if places else 0) + (1 if zulu else 6)
    cdef object text = PyUnicode_New(n, 127)
    cdef unsigned char* b = <unsigned char*>PyUnicode_DATA(text)
    put2(b, year // 100)
    put2(b + 2, year % 100)
    b[4] = 45
    put2(b + 5, PyDateTime_GET_MONTH(value))
    b[7] = 45
    put2(b + 8, PyDateTime_GET_DAY(value))
    b[10] = 84
    put2(b + 11, PyDateTime_DATE_GET_HOUR(value))
    b[13] = 58
    put2(b + 14, PyDateTime_DATE_GET_MINUTE(value))
    b[16] = 58
    put2(b + 17, PyDateTime_DATE_GET_SECOND(value))
    b += 19
    if places:
        b[0] = 46
        for k in range(6, 0, -1):  # right to left, the digits cut off first
            if k <= places:
                b[k] = <unsigned char>(48 + micro % 10)
            micro //= 10
        b += places + 1
    if zulu:
        b[0] = 90
    else:
        absolute = -minutes if minutes < 0 else minutes
        b[0] = 45 if minutes < 0 else 43
        put2(b + 1, absolute // 60)
        b[3] = 58
        put2(b + 4, absolute % 60)
    return text


cdef object WRITE_RFC3339 = _formats.FORMATS[_formats.DATETIME_FORMATS.index("RFC3339")].write
cdef object WRITE_ISO8601 = _formats.FORMATS[_formats.DATETIME_FORMATS.index("ISO8601")].write


@cython.binding(False)  # a plain C function: no cyfunction call overhead
def write_rfc3339(value, int minutes):
    """The RFC3339 writer's text for ``value`` at ``minutes`` east of UTC."""
    if PyDateTime_CheckExact(value):
        return write_iso(value, minutes, True)
    return WRITE_RFC3339(value, minutes)


@cython.binding(False)  # a plain C function: no cyfunction call overhead
def write_iso8601(value, int minutes):
    """The ISO8601 writer's text for ``value`` at ``minutes`` east of UTC."""
    if PyDateTime_CheckExact(value):
        return write_iso(value, minutes, False)
    return WRITE_ISO8601(value, minutes)


#: The compiled writers format_datetime uses, by format name.
WRITE_KERNELS = {"RFC3339": write_rfc3339, "ISO8601": write_iso8601}
format_datetime = _formats.format_datetime_with(WRITE_KERNELS)
