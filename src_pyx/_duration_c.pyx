# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled twin of the duration parser (the Python twin is ``inngest_core/_duration_py.py``).

One pass over the string's own code units (``PyUnicode_READ`` on the canonical buffer), all
arithmetic in ``uint64_t``; Python objects are made only for the result and for errors.  An
ASCII str is first read by a fast layer straight off its byte buffer (``fast``): it answers
the well-formed inputs of at most 18 digits a number and leaves everything else, every error
included, to the reference scanner, which reads the text again and says what is wrong.
"""

cimport cython
from cpython.datetime cimport (
    PyDelta_Check,
    import_datetime,
    timedelta_days,
    timedelta_microseconds,
    timedelta_new,
    timedelta_seconds,
)
from libc.stdint cimport int64_t, uint64_t

from inngest_core.errors import duration_error

__all__ = ["parse_duration", "parse_duration_ns", "format_duration"]

import_datetime()


cdef extern from "Python.h":
    bint PyUnicode_IS_ASCII(object)
    Py_ssize_t PyUnicode_GET_LENGTH(object)
    int PyUnicode_KIND(object)
    void* PyUnicode_DATA(object)
    Py_UCS4 PyUnicode_READ(int kind, void* data, Py_ssize_t index) nogil


cdef enum:
    MICRO_SIGN = 0x00B5
    GREEK_MU = 0x03BC

cdef uint64_t MAGNITUDE = 9223372036854775808ULL  # |min int64|
cdef uint64_t NS = 1
cdef uint64_t US = 1000
cdef uint64_t MS = 1000000
cdef uint64_t S = 1000000000
cdef uint64_t M = 60000000000
cdef uint64_t H = 3600000000000
cdef uint64_t D = 86400000000000
cdef uint64_t W = 604800000000000
cdef int64_t DAY_US = 86400000000
cdef uint64_t ANY_UNIT_MOST = MAGNITUDE // W  # a count of any unit up to this fits


cdef struct Cursor:
    int kind
    void* data
    Py_ssize_t n


cdef inline Py_UCS4 at(Cursor* c, Py_ssize_t i) noexcept nogil:
    return PyUnicode_READ(c.kind, c.data, i)


cdef inline bint is_digit(Py_UCS4 ch) noexcept nogil:
    return 48 <= ch <= 57


cdef inline bint is_unit_char(Py_UCS4 ch) noexcept nogil:
    return (97 <= ch <= 122) or (65 <= ch <= 90) or ch == MICRO_SIGN or ch == GREEK_MU


cdef struct Number:
    Py_ssize_t start
    Py_ssize_t frac_start
    Py_ssize_t frac_end
    uint64_t value
    bint has_digits
    bint has_dot


cdef int scan_number(Cursor* c, Py_ssize_t i, Number* num, bint comma, object text) except -1:
    """Digits, then an optional dot (or comma, ISO only) and digits.  Overflow of the integer
    part past 2**63 is an error at the number's start."""
    cdef Py_ssize_t n = c.n
    cdef Py_UCS4 ch
    cdef uint64_t v = 0
    cdef uint64_t d
    num.start = i
    num.has_dot = False
    while i < n:
        ch = at(c, i)
        if not is_digit(ch):
            break
        d = <uint64_t>ch - 48
        if v > (MAGNITUDE - d) // 10:
            raise duration_error("out_of_range", text, num.start)
        v = v * 10 + d
        i += 1
    num.value = v
    num.has_digits = i > num.start
    num.frac_start = i
    num.frac_end = i
    if i < n:
        ch = at(c, i)
        if ch == 46 or (comma and ch == 44):
            num.has_dot = True
            i += 1
            num.frac_start = i
            while i < n and is_digit(at(c, i)):
                i += 1
            num.frac_end = i
            if i > num.frac_start:
                num.has_digits = True
    return 0


cdef inline uint64_t fraction_times(Cursor* c, Number* num, uint64_t unit) noexcept nogil:
    """floor(0.<fraction digits> * unit), exactly: Horner's scheme from the last digit keeps
    the carry below ``unit`` (see the Python twin)."""
    cdef uint64_t carry = 0
    cdef Py_ssize_t j = num.frac_end
    while j > num.frac_start:
        j -= 1
        carry = ((<uint64_t>at(c, j) - 48) * unit + carry) // 10
    return carry


cdef uint64_t go_unit(Cursor* c, Py_ssize_t start, Py_ssize_t end) noexcept nogil:
    """The size of the unit text[start:end] in nanoseconds, 0 when unknown."""
    cdef Py_ssize_t length = end - start
    cdef Py_UCS4 a = at(c, start)
    cdef Py_UCS4 b
    if length == 1:
        if a == 115: return S        # s
        if a == 109: return M        # m
        if a == 104: return H        # h
        if a == 100: return D        # d
        if a == 119: return W        # w
        return 0
    if length == 2 and at(c, start + 1) == 115:  # ?s
        if a == 110: return NS       # ns
        if a == 117 or a == MICRO_SIGN or a == GREEK_MU: return US
        if a == 109: return MS       # ms
    return 0


cdef int add_group(uint64_t* total, uint64_t limit, Cursor* c, Number* num, uint64_t unit,
                   object text) except -1:
    cdef uint64_t value
    if num.value > MAGNITUDE // unit:
        raise duration_error("out_of_range", text, num.start)
    value = num.value * unit
    if num.frac_end > num.frac_start:
        value += fraction_times(c, num, unit)
    if value > limit or total[0] > limit - value:
        raise duration_error("out_of_range", text, num.start)
    total[0] += value
    return 0


cdef int64_t signed(uint64_t total, bint negative) noexcept nogil:
    if negative:
        return <int64_t>(0 - total)
    return <int64_t>total


# --------------------------------------------------------------------------- fast layer
# The reference scanner's grammar and arithmetic on an ASCII byte buffer, without positions or
# errors: 1 with the value in ``out``, or 0 when the reference scanner must read the text
# (malformed, out of range, a number of more than 18 digits, ``Y`` or ``M`` in an ISO date).

ctypedef const unsigned char* cstr


cdef struct Group:
    uint64_t value          # the integer part
    Py_ssize_t frac_start
    Py_ssize_t frac_end


cdef inline Py_ssize_t fast_number(cstr p, Py_ssize_t i, Py_ssize_t n, bint comma,
                                   Group* g) noexcept nogil:
    """The number at i (digits on at least one side of an optional dot); its end, or -1."""
    cdef Py_ssize_t start = i
    cdef uint64_t v = 0
    cdef unsigned int d
    while i < n:
        d = <unsigned int>p[i] - 48u
        if d > 9u:
            break
        v = v * 10 + d
        i += 1
    if i - start > 18:
        return -1
    g.value = v
    g.frac_start = i
    g.frac_end = i
    if i < n and (p[i] == 46 or (comma and p[i] == 44)):
        i += 1
        g.frac_start = i
        while i < n and <unsigned int>p[i] - 48u <= 9u:
            i += 1
        g.frac_end = i
        if i == g.frac_start and g.frac_start == start + 1:
            return -1
    elif i == start:
        return -1
    return i


cdef inline bint fast_add(uint64_t* total, uint64_t limit, cstr p, Group* g,
                          uint64_t unit) noexcept nogil:
    cdef uint64_t value, carry = 0
    cdef Py_ssize_t j = g.frac_end
    # A division by a unit that is not a constant costs tens of cycles: numbers no unit can
    # overflow (the largest, a week, sets the bound) skip it.
    if g.value > ANY_UNIT_MOST and g.value > MAGNITUDE // unit:
        return False
    while j > g.frac_start:
        j -= 1
        carry = ((<uint64_t>p[j] - 48) * unit + carry) // 10
    value = g.value * unit + carry
    if value > limit or total[0] > limit - value:
        return False
    total[0] += value
    return True


cdef inline uint64_t fast_unit(cstr p, Py_ssize_t length) noexcept nogil:
    cdef int a = p[0]
    if length == 1:
        if a == 115: return S        # s
        if a == 109: return M        # m
        if a == 104: return H        # h
        if a == 100: return D        # d
        if a == 119: return W        # w
        return 0
    if length == 2 and p[1] == 115:
        if a == 110: return NS       # ns
        if a == 117: return US       # us
        if a == 109: return MS       # ms
    return 0


cdef inline bint fast_iso(cstr p, Py_ssize_t i, Py_ssize_t n, uint64_t limit,
                          uint64_t* total) noexcept nogil:
    cdef bint in_time = False
    cdef bint had_fraction = False
    cdef int last = -1
    cdef int rank
    cdef int c
    cdef uint64_t unit
    cdef Group g
    if i == n:
        return False
    while i < n:
        if p[i] == 84 and not in_time:  # T
            in_time = True
            last = -1
            i += 1
            if i == n:
                return False
        i = fast_number(p, i, n, True, &g)
        if i < 0 or had_fraction or i == n:
            return False
        had_fraction = g.frac_end > g.frac_start
        c = p[i]
        if in_time:
            if c == 72: rank = 0; unit = H      # H
            elif c == 77: rank = 1; unit = M    # M
            elif c == 83: rank = 2; unit = S    # S
            else: return False
        elif c == 87: rank = 2; unit = W        # W
        elif c == 68: rank = 3; unit = D        # D
        else:
            return False
        if rank <= last:
            return False
        last = rank
        i += 1
        if not fast_add(total, limit, p, &g, unit):
            return False
    return True


cdef bint fast(cstr p, Py_ssize_t n, int64_t* out) noexcept nogil:
    cdef Py_ssize_t i = 0
    cdef Py_ssize_t unit_start
    cdef bint negative = False
    cdef uint64_t total = 0
    cdef uint64_t limit, unit
    cdef Group g
    if n == 0:
        return False
    if p[0] == 43 or p[0] == 45:  # + -
        negative = p[0] == 45
        i = 1
    limit = MAGNITUDE if negative else MAGNITUDE - 1
    if i < n and p[i] == 80:  # P
        if not fast_iso(p, i + 1, n, limit, &total):
            return False
    elif n - i == 1 and p[i] == 48:  # a bare 0
        out[0] = 0
        return True
    else:
        if i == n:
            return False
        while i < n:
            i = fast_number(p, i, n, False, &g)
            if i < 0:
                return False
            unit_start = i
            while i < n and ((p[i] | 32) - 97u) <= 25u:
                i += 1
            if i == unit_start:
                return False
            unit = fast_unit(p + unit_start, i - unit_start)
            if unit == 0 or not fast_add(&total, limit, p, &g, unit):
                return False
    out[0] = signed(total, negative)
    return True


cdef int parse(object text, int64_t* out) except -1:
    if not isinstance(text, str):
        raise TypeError(f"duration must be str, not {type(text).__name__}")
    if PyUnicode_IS_ASCII(text) and fast(<cstr>PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text),
                                         out):
        return 0
    cdef Cursor c
    c.kind = PyUnicode_KIND(text)
    c.data = PyUnicode_DATA(text)
    c.n = PyUnicode_GET_LENGTH(text)
    cdef Py_ssize_t n = c.n
    cdef Py_ssize_t i = 0
    cdef Py_ssize_t unit_start
    cdef bint negative = False
    cdef Py_UCS4 ch
    cdef uint64_t total = 0
    cdef uint64_t limit
    cdef uint64_t unit
    cdef Number num
    if n == 0:
        raise duration_error("empty", text, 0)
    ch = at(&c, 0)
    if ch == 43 or ch == 45:  # + -
        negative = ch == 45
        i = 1
    if i < n and at(&c, i) == 80:  # P
        return parse_iso(&c, i + 1, negative, out, text)
    if n - i == 1 and at(&c, i) == 48:  # a bare 0
        out[0] = 0
        return 0
    limit = MAGNITUDE if negative else MAGNITUDE - 1
    while True:
        if i == n:
            raise duration_error("expected_number", text, i)
        scan_number(&c, i, &num, False, text)
        if not num.has_digits:
            if num.has_dot:
                raise duration_error("no_digits", text, i)
            raise duration_error("unexpected", text, i, text[i])
        i = num.frac_end
        unit_start = i
        while i < n and is_unit_char(at(&c, i)):
            i += 1
        if i == unit_start:
            if i == n:
                raise duration_error("missing_unit", text, i)
            raise duration_error("unexpected", text, i, text[i])
        unit = go_unit(&c, unit_start, i)
        if unit == 0:
            raise duration_error("unknown_unit", text, unit_start, text[unit_start:i])
        add_group(&total, limit, &c, &num, unit, text)
        if i == n:
            out[0] = signed(total, negative)
            return 0


cdef int parse_iso(Cursor* c, Py_ssize_t i, bint negative, int64_t* out, object text) except -1:
    cdef Py_ssize_t n = c.n
    cdef uint64_t total = 0
    cdef uint64_t limit = MAGNITUDE if negative else MAGNITUDE - 1
    cdef uint64_t unit
    cdef bint in_time = False
    cdef int last = -1          # rank of the last designator in the current part
    cdef int rank
    cdef Py_ssize_t fraction_at = -1
    cdef Py_ssize_t unit_end
    cdef Py_UCS4 ch
    cdef Number num
    if i == n:
        raise duration_error("expected_number", text, i)
    while i < n:
        if at(c, i) == 84 and not in_time:  # T
            in_time = True
            last = -1
            i += 1
            if i == n:
                raise duration_error("iso_empty_time", text, i)
        scan_number(c, i, &num, True, text)
        if not num.has_digits:
            if num.has_dot:
                raise duration_error("no_digits", text, i)
            raise duration_error("unexpected", text, i, text[i])
        if fraction_at >= 0:
            raise duration_error("iso_fraction", text, fraction_at)
        if num.frac_end > num.frac_start:
            fraction_at = num.start
        i = num.frac_end
        if i == n:
            raise duration_error("missing_unit", text, i)
        ch = at(c, i)
        rank = iso_rank(ch, in_time)
        if rank >= 0:
            if rank <= last:
                raise duration_error("iso_order", text, i, text[i])
            last = rank
        elif in_time and iso_rank(ch, False) >= 0:
            raise duration_error("iso_order", text, i, text[i])
        elif not in_time and iso_rank(ch, True) >= 0:
            raise duration_error("iso_time_needs_t", text, i)
        elif is_unit_char(ch):
            unit_end = i
            while unit_end < n and is_unit_char(at(c, unit_end)):
                unit_end += 1
            raise duration_error("unknown_unit", text, i, text[i:unit_end])
        else:
            raise duration_error("unexpected", text, i, text[i])
        if not in_time and (ch == 89 or ch == 77):  # Y M
            raise duration_error("iso_no_fixed_length", text, i, "years" if ch == 89 else "months")
        if in_time:
            unit = H if ch == 72 else (M if ch == 77 else S)
        else:
            unit = W if ch == 87 else D
        i += 1
        add_group(&total, limit, c, &num, unit, text)
    out[0] = signed(total, negative)
    return 0


cdef inline int iso_rank(Py_UCS4 ch, bint in_time) noexcept nogil:
    if in_time:
        if ch == 72: return 0   # H
        if ch == 77: return 1   # M
        if ch == 83: return 2   # S
        return -1
    if ch == 89: return 0       # Y
    if ch == 77: return 1       # M
    if ch == 87: return 2       # W
    if ch == 68: return 3       # D
    return -1


@cython.binding(False)  # a plain C function: no cyfunction call overhead
def parse_duration_ns(text):
    """Parse a duration into an exact count of nanoseconds (see the Python twin)."""
    cdef int64_t ns
    parse(text, &ns)
    return ns


@cython.binding(False)  # a plain C function: no cyfunction call overhead
def parse_duration(text):
    """Parse a duration into a timedelta; sub-microsecond remainders truncate toward zero."""
    cdef int64_t ns
    parse(text, &ns)
    cdef int64_t micros = ns // 1000  # C division truncates toward zero
    cdef int64_t days = micros // DAY_US
    cdef int64_t rest = micros % DAY_US
    if rest < 0:
        rest += DAY_US
        days -= 1
    return timedelta_new(<int>days, <int>(rest // 1000000), <int>(rest % 1000000))


cdef const char* UNIT_NAMES[8]
UNIT_NAMES[:] = [b"w", b"d", b"h", b"m", b"s", b"ms", b"us", b"ns"]
cdef uint64_t UNIT_SIZES[8]
UNIT_SIZES[:] = [W, D, H, M, S, MS, US, NS]


@cython.binding(False)  # a plain C function: no cyfunction call overhead
def format_duration(value):
    """Write the canonical form (see the Python twin)."""
    cdef object ns
    if PyDelta_Check(value):
        ns = ((<object>timedelta_days(value) * 86400 + timedelta_seconds(value)) * 1000000
              + timedelta_microseconds(value)) * 1000
    elif isinstance(value, int) and not isinstance(value, bool):
        ns = int(value)
    else:
        raise TypeError(
            f"duration value must be timedelta or int nanoseconds, not {type(value).__name__}")
    if not -9223372036854775808 <= ns <= 9223372036854775807:
        raise duration_error("value_out_of_range", str(ns), None, str(ns))
    cdef int64_t signed_ns = ns
    if signed_ns == 0:
        return "0s"
    cdef uint64_t rest = (0 - <uint64_t>signed_ns) if signed_ns < 0 else <uint64_t>signed_ns
    cdef char buf[96]
    cdef char digits[24]
    cdef int pos = 0
    cdef int k, nd
    cdef uint64_t q
    cdef const char* name
    if signed_ns < 0:
        buf[0] = 45
        pos = 1
    for k in range(8):
        if rest >= UNIT_SIZES[k]:
            q = rest // UNIT_SIZES[k]
            rest = rest % UNIT_SIZES[k]
            nd = 0
            while q:
                digits[nd] = 48 + q % 10
                q //= 10
                nd += 1
            while nd:
                nd -= 1
                buf[pos] = digits[nd]
                pos += 1
            name = UNIT_NAMES[k]
            while name[0]:
                buf[pos] = name[0]
                pos += 1
                name += 1
    return buf[:pos].decode("ascii")
