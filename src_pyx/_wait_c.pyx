# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled twin of the wait index (the Python twin, ``inngest_core/_wait_py.py``, documents
the method: ``&&``-groups filed under one comparison each, candidates confirmed by evaluation).

The compiled twin keeps the same filings in C-typed structures: the hot path of ``match``
walks exact dicts with ``PyDict_GetItem`` and builds the candidate set without Python-level
calls; the equality table stores a lone key directly instead of a one-element set (most
stored waits are one ``async.x == "<id>"`` comparison: this halves their memory).
"""

import bisect
import threading

from cpython.dict cimport PyDict_GetItem, PyDict_CheckExact
from cpython.object cimport PyObject

from _owned cimport dict_str_keyed, check_dict_kind

from inngest_core._wait_plan import MISSING, choose, decompose, lookup as slow_lookup, plan
from inngest_core._wait_plan import range_value, value_key

check_dict_kind()

__all__ = ["ExpressionIndex", "decompose"]

cdef object _MISSING = MISSING


cdef class _Many:
    """Two or more keys filed under one value (a lone key is stored bare)."""
    cdef dict keys

    def __cinit__(self):
        self.keys = {}


cdef inline object lookup(object event, tuple path):
    """The planner's ``lookup``, inlined for dicts of exact str keys (the others are read
    there, safely)."""
    cdef object value = event
    cdef PyObject* found
    for key in path:
        if PyDict_CheckExact(value) and dict_str_keyed(value):
            found = PyDict_GetItem(value, key)
            if found is NULL:
                return _MISSING
            value = <object>found
        else:
            return slow_lookup(event, path)
    return value


cdef inline object key_of(object value):
    """``value_key`` of the Python twin, inlined for the common types."""
    cdef type t = type(value)
    if t is str:
        return value
    if t is int:
        return ("n", value)
    if value is None:
        return ("z",)
    if t is bool:
        return ("b", value)
    return value_key(value)


cdef class _Ranges:
    cdef public list gt, ge, lt, le

    def __cinit__(self):
        self.gt = []
        self.ge = []
        self.lt = []
        self.le = []

    cdef list for_op(self, str op):
        if op == "_>_":
            return self.gt
        if op == "_>=_":
            return self.ge
        if op == "_<_":
            return self.lt
        return self.le

    cdef void candidates(self, object value, set out):
        cdef tuple low = (value, -1)
        cdef tuple high = (value, 1 << 62)
        cdef Py_ssize_t i, end
        end = bisect.bisect_left(self.gt, low)
        for i in range(end):
            out.add((<tuple>self.gt[i])[2])
        end = bisect.bisect_right(self.ge, high)
        for i in range(end):
            out.add((<tuple>self.ge[i])[2])
        for i in range(bisect.bisect_right(self.lt, high), len(self.lt)):
            out.add((<tuple>self.lt[i])[2])
        for i in range(bisect.bisect_left(self.le, low), len(self.le)):
            out.add((<tuple>self.le[i])[2])


cdef object _NO_FILING = object()


cdef class _Entry:
    """A stored key's program and filings: the first filing held bare (most waits have just
    one, and a one-element tuple per wait adds up), the others in ``rest``."""
    cdef readonly Py_ssize_t seq
    cdef readonly object program
    cdef object first
    cdef tuple rest

    cdef list filings(self):
        if self.first is _NO_FILING:
            return []
        return [self.first, *self.rest]


cdef _Entry new_entry(Py_ssize_t seq, object program, list filings):
    """An ``_Entry`` made in C (no constructor call and argument parsing per stored wait)."""
    cdef _Entry entry = _Entry.__new__(_Entry)
    entry.seq = seq
    entry.program = program
    entry.first = filings[0] if filings else _NO_FILING
    entry.rest = tuple(filings[1:]) if len(filings) > 1 else ()
    return entry


cdef tuple shared_path(dict paths, tuple filing):
    """``filing`` with its path replaced by the index's one tuple for that path (one per
    path, not one per wait), built field by field rather than by unpacking a slice."""
    cdef object path = filing[1]
    cdef object shared = paths.get(path)
    if shared is None:
        paths[path] = shared = path
    elif shared is path:
        return filing
    if len(filing) == 3:
        return (filing[0], shared, filing[2])
    return (filing[0], shared, filing[2], filing[3])


cdef class ExpressionIndex:
    """Stored wait expressions, keyed by any hashable, matched against incoming events
    (see the Python twin for the full documentation and examples)."""

    cdef object _lock
    cdef Py_ssize_t _seq
    cdef dict _entries      # key -> _Entry
    cdef dict _equal        # path -> {value key: key | _Many}
    cdef dict _ranges       # path -> _Ranges
    cdef dict _always       # key -> None
    cdef dict _paths        # path -> the same path: one tuple per path, not one per wait
    cdef tuple _planned     # (the last program added, its groups): see _wait_plan.plan
    cdef readonly str dialect
    cdef bint _inngest

    def __cinit__(self, dialect="cel"):
        if dialect not in ("cel", "inngest"):
            raise ValueError(f"unknown dialect {dialect!r}; the dialects are cel, inngest")
        self.dialect = dialect
        self._inngest = dialect == "inngest"
        self._lock = threading.RLock()
        self._seq = 0
        self._entries = {}
        self._equal = {}
        self._ranges = {}
        self._always = {}
        self._planned = None
        self._paths = {}

    def __len__(self):
        return len(self._entries)

    def __contains__(self, key):
        return key in self._entries

    def __repr__(self):
        return f"<ExpressionIndex of {len(self._entries)} expressions>"

    def add(self, key, expression, *, event=None):
        """Store ``expression`` under ``key`` (replacing what ``key`` had), substituting the
        triggering ``event`` first when given."""
        if isinstance(expression, str):
            if self._inngest:
                from inngest_core._expr_dialect import compile_dialect
                program = compile_dialect(expression)
            else:
                from inngest_core._expr_c import compile_program
                program = compile_program(expression)
        else:
            program = expression
        if getattr(program, "dialect", "cel") != self.dialect:
            raise ValueError(f"a program of the {getattr(program, 'dialect', 'cel')} dialect "
                             f"in an index of the {self.dialect} dialect")
        if event is not None:
            program = program.substitute({"event": event})
        cdef tuple planned = plan(program, self._planned)
        self._planned = planned  # one store: another thread sees the old pair or this one
        cdef tuple groups = planned[1]
        cdef list filings = []
        cdef object held = self._held  # one bound method per add, not one per group
        with self._lock:
            if key in self._entries:
                self._unfile(key)
            for group in groups:
                filing = choose(group, held)
                if filing is not None:
                    filing = shared_path(self._paths, filing)
                if filing not in filings:
                    filings.append(filing)
            self._seq += 1
            self._entries[key] = new_entry(self._seq, program, filings)
            for filing in filings:
                self._file(key, self._seq, filing)

    def remove(self, key):
        """Forget ``key``; a ``KeyError`` if it is not stored."""
        with self._lock:
            if key not in self._entries:
                raise KeyError(key)
            self._unfile(key)
            del self._entries[key]

    def _held(self, path, value):
        """How many keys the bucket of ``value`` under ``path`` holds (for ``choose``)."""
        cdef dict table = self._equal.get(path)
        if table is None:
            return 0
        held = table.get(value, _MISSING)
        if held is _MISSING:
            return 0
        return len((<_Many>held).keys) if type(held) is _Many else 1

    cdef _file(self, object key, Py_ssize_t seq, object filing):
        cdef dict table
        cdef object held
        cdef _Many many
        cdef _Ranges ranges
        if filing is None:
            self._always[key] = None
        elif filing[0] == "eq":
            table = self._equal.get(filing[1])
            if table is None:
                table = self._equal[filing[1]] = {}
            for value in filing[2]:
                held = table.get(value, _MISSING)
                if held is _MISSING:
                    table[value] = key
                elif isinstance(held, _Many):
                    (<_Many>held).keys[key] = None
                elif held != key:
                    many = _Many()
                    many.keys[held] = None
                    many.keys[key] = None
                    table[value] = many
        else:
            ranges = self._ranges.get(filing[1])
            if ranges is None:
                ranges = self._ranges[filing[1]] = _Ranges()
            bisect.insort(ranges.for_op(filing[2]), (filing[3], seq, key))

    cdef _unfile(self, object key):
        cdef _Entry entry = self._entries[key]
        cdef dict table
        cdef list entries
        cdef _Many many
        for filing in entry.filings():
            if filing is None:
                self._always.pop(key, None)
            elif filing[0] == "eq":
                table = self._equal.get(filing[1])
                if table is None:  # emptied by an earlier filing of this key on that path
                    continue       # (``a in ["x", "y"] || a == "x"``: two filings of "x")
                for value in filing[2]:
                    held = table.get(value, _MISSING)
                    if isinstance(held, _Many):
                        many = held
                        many.keys.pop(key, None)
                        if len(many.keys) == 1:
                            table[value] = next(iter(many.keys))
                    elif held is not _MISSING and held == key:
                        del table[value]
                if not table:
                    del self._equal[filing[1]]
            else:
                entries = (<_Ranges>self._ranges[filing[1]]).for_op(filing[2])
                del entries[bisect.bisect_left(entries, (filing[3], entry.seq))]

    cdef list _candidates(self, object async_event):
        cdef set found = set()
        cdef dict table
        cdef object value, key, held
        cdef PyObject* hit
        for path, table in self._equal.items():
            value = lookup(async_event, <tuple>path)
            if value is _MISSING:
                if not self._inngest:
                    continue
                value = None  # the dialect: unknown == null is true
            key = key_of(value)
            if key is None:
                continue
            hit = PyDict_GetItem(table, key)
            if hit is not NULL:
                held = <object>hit
                if type(held) is _Many:
                    found.update((<_Many>held).keys)
                else:
                    found.add(held)
        for path, ranges in self._ranges.items():
            value = lookup(async_event, <tuple>path)
            if self._inngest:
                if value is _MISSING:  # the dialect: unknown < x and unknown <= x are true
                    for entry in (<_Ranges>ranges).lt:
                        found.add((<tuple>entry)[2])
                    for entry in (<_Ranges>ranges).le:
                        found.add((<tuple>entry)[2])
                    continue
                if value is None:  # the dialect: null orders as the other operand's zero
                    value = 0
            if type(value) is float:
                if value != value:
                    continue
            elif type(value) is not int:
                value = range_value(value)
                if value is None:
                    continue
            (<_Ranges>ranges).candidates(value, found)
        if self._always:
            found.update(self._always)
        cdef list keys = list(found)
        if len(keys) > 1:
            entries = self._entries
            keys.sort(key=lambda k: (<_Entry>entries[k]).seq)
        return keys

    def candidates(self, async_event):
        """The keys whose filing the event reaches, before confirmation (for inspection)."""
        with self._lock:
            return self._candidates(async_event)

    def match(self, async_event):
        """The keys whose expression matches ``{"async": async_event}``, in insertion order."""
        cdef list keys, programs
        cdef list out = []
        cdef Py_ssize_t i
        with self._lock:
            keys = self._candidates(async_event)
            programs = [(<_Entry>self._entries[k]).program for k in keys]
        activation = {"async": async_event}
        for i in range(len(keys)):
            if programs[i].matches(activation):
                out.append(keys[i])
        return out

    def programs(self):
        """Every stored ``(key, program)`` in insertion order (a snapshot)."""
        with self._lock:
            return [(k, (<_Entry>e).program) for k, e in self._entries.items()]
