# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled twin of the CEL evaluator (the Python twin is ``inngest_core/_expr_py.py``); the
parser is ``_expr_parse_c.pyx``.

The AST is compiled once into a tree of ``Node`` objects whose ``eval`` is a C virtual call.
Values are those of the shared runtime, ``inngest_core._expr_lib`` (lists and maps stay the
Python containers they were given, their elements converted when read).  An evaluation error
is a value (the runtime's ``CelError``), so ``&&``/``||`` and the macros can absorb it.
Native code answers only what is certain (two strs, two ints whose result fits, a dict
lookup that hits, ...); every other case -- and every error message -- comes from the
runtime's function table, so the twins cannot drift apart.
"""

from inngest_core.errors import depth_limit_error
from inngest_core._expr_parse_c import parse

__all__ = ["parse", "Program", "compile_program"]

from cpython.object cimport PyObject, PyTypeObject, Py_TYPE
from cpython.dict cimport PyDict_GetItemWithError, PyDict_Next
from cpython.unicode cimport PyUnicode_Tailmatch, PyUnicode_Contains
from cpython.long cimport PyLong_AsLongLongAndOverflow
from cpython.list cimport PyList_GET_SIZE, PyList_GET_ITEM
from cpython.tuple cimport PyTuple_GET_SIZE, PyTuple_GET_ITEM, PyTuple_New
from cpython.ref cimport Py_INCREF
from cpython.unicode cimport PyUnicode_GET_LENGTH, PyUnicode_READ_CHAR

from collections.abc import Mapping as _Mapping

from _owned cimport dict_str_keyed, check_dict_kind, key_has_dot

check_dict_kind()

from inngest_core.errors import EvaluationError, comprehension_limit_error
from inngest_core._expr_ast import MAX_NESTING, height
from inngest_core._expr_ast import free_names as shared_free_names

cdef extern from "Python.h":
    const Py_ssize_t PY_SSIZE_T_MAX
    PyObject* TRUE "Py_True"
    PyObject* FALSE "Py_False"


cdef extern from *:
    """
    static inline int expr_add_overflow(long long a, long long b, long long *r) {
        return __builtin_add_overflow(a, b, r);
    }
    static inline int expr_sub_overflow(long long a, long long b, long long *r) {
        return __builtin_sub_overflow(a, b, r);
    }
    static inline int expr_mul_overflow(long long a, long long b, long long *r) {
        return __builtin_mul_overflow(a, b, r);
    }
    """
    bint expr_add_overflow(long long a, long long b, long long* r) noexcept nogil
    bint expr_sub_overflow(long long a, long long b, long long* r) noexcept nogil
    bint expr_mul_overflow(long long a, long long b, long long* r) noexcept nogil


cdef extern from *:
    """
    #include <string.h>
    /* a == b for two exact strs: by length, kind and code units, without PyUnicode_Compare's
       ordering (Cython's str == str) */
    static inline int expr_str_equal(PyObject *a, PyObject *b) {
        Py_ssize_t n;
        int kind;
        if (a == b)
            return 1;
    #if PY_VERSION_HEX < 0x030C0000
        if (!PyUnicode_IS_READY(a) || !PyUnicode_IS_READY(b))  /* a legacy str: not laid out yet */
            return PyUnicode_Compare(a, b) == 0;
    #endif
        n = PyUnicode_GET_LENGTH(a);
        kind = PyUnicode_KIND(a);
        if (n != PyUnicode_GET_LENGTH(b) || kind != (int)PyUnicode_KIND(b))
            return 0;
        return memcmp(PyUnicode_DATA(a), PyUnicode_DATA(b), (size_t)n * (size_t)kind) == 0;
    }
    """
    bint str_equal "expr_str_equal" (str a, str b) noexcept
    void tuple_steal "PyTuple_SET_ITEM" (object tuple, Py_ssize_t i, PyObject* item)


# The runtime's names, bound on the first compile (parsing does not need the runtime).
cdef bint BOUND = False
cdef type ERROR = None
cdef type UINT = None
cdef object TO_CEL = None
cdef object TO_PYTHON = None
cdef object LIB_ERROR = None
cdef object NO_OVERLOAD = None
cdef object LIB_CALL = None
cdef object LIB_SELECT = None
cdef object LIB_HAS = None
cdef object LIB_INDEX = None
cdef object LIB_CONTAINS = None
cdef object LIB_ITERATE = None
cdef object LIB_MAKE_MAP = None
cdef object CHECK_KEYS = None
cdef object PLAIN_MAPPING = None
cdef dict FUNCTIONS = None
cdef dict TYPES = None
cdef object RECURSION_ROOM = None


cdef int bind() except -1:
    global BOUND, ERROR, UINT, TO_CEL, TO_PYTHON, LIB_ERROR, NO_OVERLOAD, LIB_CALL, LIB_SELECT
    global LIB_HAS, LIB_INDEX, LIB_CONTAINS, LIB_ITERATE, LIB_MAKE_MAP, FUNCTIONS, TYPES
    global RECURSION_ROOM, CHECK_KEYS, PLAIN_MAPPING, NATIVE_FUNCTIONS
    if BOUND:
        return 0
    from inngest_core import _expr_lib as lib
    ERROR = lib.CelError
    UINT = lib.UInt
    TO_CEL = lib.to_cel
    TO_PYTHON = lib.to_python
    LIB_ERROR = lib.error
    NO_OVERLOAD = lib.no_overload
    LIB_CALL = lib.call
    LIB_SELECT = lib.select
    LIB_HAS = lib.has_field
    LIB_INDEX = lib.index
    LIB_CONTAINS = lib.contains
    LIB_ITERATE = lib.iterate
    LIB_MAKE_MAP = lib.make_map
    CHECK_KEYS = lib.check_keys
    PLAIN_MAPPING = lib.plain_mapping
    FUNCTIONS = lib.FUNCTIONS
    NATIVE_FUNCTIONS = native_functions(lib.OVERLOADS)
    for name, operator in CEL_OPERATORS.items():
        (<Operator>operator).fn = FUNCTIONS.get((name, (<Operator>operator).arity, False))
    TYPES = lib.TYPES
    RECURSION_ROOM = lib.recursion_room
    BOUND = True
    return 0


cdef inline bint is_error(object v) noexcept:
    return type(v) is ERROR


cdef inline object cel_in(object v):
    """A value read from the activation, a map or a list, as ``to_cel`` makes it: the
    primitives Python and CEL share pass as they are (an int after its range check, a dict
    once its keys are known to be owned: see "owned values" in ``_expr_lib``)."""
    cdef type t = type(v)
    cdef int overflow
    if t is str or t is bool or t is float or v is None:
        return v
    if t is dict:
        if dict_str_keyed(v):
            return v
        return CHECK_KEYS(v)
    if t is int:
        PyLong_AsLongLongAndOverflow(v, &overflow)
        if overflow == 0:
            return v
    return TO_CEL(v)


cdef inline object apply1(object fn, object a):
    if is_error(a):
        return a
    return fn(a)


cdef inline object apply2(object fn, object a, object b):
    if is_error(a):
        return a
    if is_error(b):
        return b
    return fn(a, b)


cdef class Scope:
    """Per-evaluation state of a program with comprehensions: the loop variables' values
    and the step count.  Programs without comprehensions evaluate without one."""
    cdef list slots
    cdef Py_ssize_t steps
    cdef Py_ssize_t max_steps


cdef class Node:
    cdef object eval(self, dict act, Scope sc):
        raise NotImplementedError


# ------------------------------------------------------------------ leaves


cdef class Const(Node):
    cdef object value

    cdef object eval(self, dict act, Scope sc):
        return self.value


cdef class Ident(Node):
    cdef str name
    cdef object missing     # its value when the activation does not bind it

    cdef object eval(self, dict act, Scope sc):
        cdef PyObject* p = PyDict_GetItemWithError(act, self.name)
        if p is NULL:
            return self.missing
        return cel_in(<object>p)


cdef object unbound(str name):
    """A name the activation does not bind: a type name's value, or the error."""
    found = TYPES.get(name)
    if found is not None and name not in PROTOBUF_TYPE_NAMES:
        return found
    return LIB_ERROR("undeclared", name=name)


# The errors of missing keys and names, made once per name (compiling stays cheap, and a
# failing lookup costs a pointer): a bounded cache, emptied when full.
cdef dict MISSING_KEYS = {}
cdef dict MISSING_NAMES = {}
cdef dict PATHS = {}    # field names -> (the shared tuple of them, their missing-key errors)
cdef Py_ssize_t MISSING_LIMIT = 4096


cdef object no_such_key(str field):
    cdef object found = MISSING_KEYS.get(field)
    if found is None:
        if len(MISSING_KEYS) >= MISSING_LIMIT:
            MISSING_KEYS.clear()
        found = MISSING_KEYS[field] = LIB_ERROR("no_such_key", key=field)
    return found


cdef object missing_name(str name):
    cdef object found = MISSING_NAMES.get(name)
    if found is None:
        if len(MISSING_NAMES) >= MISSING_LIMIT:
            MISSING_NAMES.clear()
        found = MISSING_NAMES[name] = unbound(name)
    return found


cdef frozenset PROTOBUF_TYPE_NAMES = frozenset(
    {"google.protobuf.Timestamp", "google.protobuf.Duration"})


cdef class Local(Node):
    """A comprehension's loop variable."""
    cdef Py_ssize_t slot

    cdef object eval(self, dict act, Scope sc):
        return sc.slots[self.slot]


cdef class Select(Node):
    cdef Node operand
    cdef str field
    cdef object missing     # the "no such key" error, made once

    cdef object eval(self, dict act, Scope sc):
        cdef object o = self.operand.eval(act, sc)
        cdef PyObject* p
        if type(o) is dict:
            p = PyDict_GetItemWithError(o, self.field)
            if p is NULL:
                return self.missing
            return cel_in(<object>p)
        return LIB_SELECT(o, self.field)


cdef class Path(Node):
    """``name.f1.f2...``: a variable's lookup and the selections after it in one node (the
    same steps as Ident then Select nodes).  The field names and their "no such key" errors
    are shared by every program selecting the same path, so a stored program stays small."""
    cdef str name
    cdef object missing         # the variable's value when the activation does not bind it
    cdef tuple fields
    cdef tuple missing_keys     # missing_keys[i]: the error when fields[i] is absent

    cdef object eval(self, dict act, Scope sc):
        # Through exact dicts of str keys the walk takes no references: a str key's hash and
        # equality are the str's own, so no code runs between the lookups and each dict read
        # stays alive in its parent (the activation, held by the caller).  The value it stops
        # at is held before anything else runs; any value but such a dict goes on in ``select``.
        cdef PyObject* p = PyDict_GetItemWithError(act, self.name)
        cdef Py_ssize_t i
        cdef object found
        if p is NULL:
            return self.select(self.missing, 0)
        for i in range(PyTuple_GET_SIZE(self.fields)):
            if Py_TYPE(<object>p) is not <PyTypeObject*>dict or not dict_str_keyed(<object>p):
                found = <object>p
                return self.select(cel_in(found), i)
            p = PyDict_GetItemWithError(<object>p, <object>PyTuple_GET_ITEM(self.fields, i))
            if p is NULL:
                return <object>PyTuple_GET_ITEM(self.missing_keys, i)
        found = <object>p
        return cel_in(found)

    cdef object select(self, object o, Py_ssize_t start):
        """``o`` (a CEL value) selected by the fields from ``fields[start]`` on."""
        cdef PyObject* p
        cdef Py_ssize_t i
        cdef str field
        for i in range(start, PyTuple_GET_SIZE(self.fields)):
            field = <str>PyTuple_GET_ITEM(self.fields, i)
            if type(o) is dict:
                p = PyDict_GetItemWithError(o, field)
                if p is NULL:
                    return <object>PyTuple_GET_ITEM(self.missing_keys, i)
                o = cel_in(<object>p)
            else:
                o = LIB_SELECT(o, field)
        return o


cdef class Has(Node):
    cdef Node operand
    cdef str field

    cdef object eval(self, dict act, Scope sc):
        cdef object o = self.operand.eval(act, sc)
        if type(o) is dict:
            return self.field in <dict>o
        return LIB_HAS(o, self.field)


cdef class DottedChain(Node):
    """``root.f1.f2...`` when the activation names variables with dots (``{"a.b": 1}``):
    the longest name the activation binds wins, as CEL resolves qualified names."""
    cdef str root
    cdef tuple fields
    cdef tuple names    # names[i]: root and the first i fields, joined by dots

    cdef object eval(self, dict act, Scope sc):
        cdef Py_ssize_t i, j, n = len(self.fields)
        cdef object value = None
        cdef PyObject* p
        for i in range(n, -1, -1):
            p = PyDict_GetItemWithError(act, self.names[i])
            if p is not NULL:
                value = cel_in(<object>p)
                break
        else:
            value = unbound(self.root)
            i = 0
        for j in range(i, n):
            value = LIB_SELECT(value, self.fields[j])
            if is_error(value):
                return value
        return value


# ------------------------------------------------------------------ operators
# An operator's node is a Unary or a Binary: its operands, ``fn`` (the runtime's function for
# what the native code does not answer: the twins' errors come from there) and ``op`` (which
# native variant of its class runs it).  Which class runs which operator is a table
# (``CEL_OPERATORS``), and so is which function has a native path (``native_functions``).


cdef class Unary(Node):
    cdef Node operand
    cdef object fn
    cdef int op


cdef class Binary(Node):
    cdef Node left, right
    cdef object fn
    cdef int op


cdef class WithLiteral(Node):
    """``x op literal``: the variant of a binary operator taking a literal right operand."""
    cdef Node left
    cdef object fn
    cdef int op
    cdef type kind      # the literal's exact type, the one the native path answers

    cdef bint take(self, tuple literal) except -1:
        """Keep ``literal`` (an AST node) when this variant answers it."""
        raise NotImplementedError


cdef enum:
    AND, OR


cdef class Logical(Binary):
    """``&&`` (op AND: false absorbs) and ``||`` (op OR: true absorbs): the absorbing value
    on either side decides, whatever the other side is, errors included."""
    cdef object eval(self, dict act, Scope sc):
        # The absorbing value is borrowed (a bool made per call costs a reference each time).
        cdef bint is_or = self.op == OR
        cdef PyObject* absorbing = TRUE if is_or else FALSE
        cdef object l = self.left.eval(act, sc)
        if <PyObject*>l is absorbing:
            return l
        cdef object r = self.right.eval(act, sc)
        if <PyObject*>r is absorbing:
            return r
        if (l is True or l is False) and (r is True or r is False):
            return not is_or
        return undecided("_||_" if is_or else "_&&_", l, r)


cdef object undecided(str name, object l, object r):
    """``l op r`` when neither side decides: the first error, or no matching overload."""
    if is_error(l):
        return l
    if is_error(r):
        return r
    return NO_OVERLOAD(name, l, r)


cdef class Not(Unary):
    cdef object eval(self, dict act, Scope sc):
        cdef object v = self.operand.eval(act, sc)
        if v is True:
            return False
        if v is False:
            return True
        return apply1(self.fn, v)


cdef class Ternary(Binary):
    """``left ? right : other``."""
    cdef Node other

    cdef object eval(self, dict act, Scope sc):
        cdef object c = self.left.eval(act, sc)
        if c is True:
            return self.right.eval(act, sc)
        if c is False:
            return self.other.eval(act, sc)
        if is_error(c):
            return c
        return NO_OVERLOAD("_?_:_", c)


# ------------------------------------------------------------------ comparisons


cdef enum:
    EQ, NE


cdef class Eq(Binary):
    cdef object eval(self, dict act, Scope sc):
        cdef object l = self.left.eval(act, sc)
        cdef object r = self.right.eval(act, sc)
        cdef type t = type(l)
        if t is type(r):
            if t is str:
                return str_equal(<str>l, <str>r) != (self.op == NE)
            if t is int or t is bool or t is float:
                return (l != r) if self.op == NE else (l == r)
        return apply2(self.fn, l, r)


cdef class EqConst(WithLiteral):
    """``x == literal`` / ``x != literal`` with a str or int literal."""
    cdef object value

    cdef bint take(self, tuple literal) except -1:
        if not tag_is(literal[0], "const") or literal[1] not in FAST_KINDS:
            return False
        self.value = literal[2]
        self.kind = FAST_KINDS[literal[1]]
        return True

    cdef object eval(self, dict act, Scope sc):
        cdef object l = self.left.eval(act, sc)
        if type(l) is self.kind:
            if self.kind is str:
                return str_equal(<str>l, <str>self.value) != (self.op == NE)
            return (l != self.value) if self.op == NE else (l == self.value)
        return apply2(self.fn, l, self.value)


cdef enum:
    LT, LE, GT, GE


ctypedef fused number:
    long long
    double


cdef inline bint ordered(int op, number a, number b) noexcept:
    if op == LT:
        return a < b
    if op == LE:
        return a <= b
    if op == GT:
        return a > b
    return a >= b


cdef class Compare(Binary):
    cdef object eval(self, dict act, Scope sc):
        cdef object l = self.left.eval(act, sc)
        cdef object r = self.right.eval(act, sc)
        cdef type t = type(l)
        cdef long long a, b
        cdef double x, y
        if t is int:
            if type(r) is int:
                a = l
                b = r
                return ordered(self.op, a, b)
        elif t is float:
            if type(r) is float:
                x = l
                y = r
                return ordered(self.op, x, y)
        return apply2(self.fn, l, r)


cdef class InSet(WithLiteral):
    """``x in [literals]`` where every literal is a str, or every one an int: a frozenset
    answers values of that type; any other value goes to the runtime with the list."""
    cdef frozenset members
    cdef list listed

    cdef bint take(self, tuple literal) except -1:
        if not tag_is(literal[0], "list") or not literal[1]:
            return False
        kinds = {element[1] if element[0] == "const" else None for element in literal[1]}
        if len(kinds) != 1:
            return False
        kind = kinds.pop()
        if kind not in FAST_KINDS:
            return False
        self.listed = [element[2] for element in literal[1]]
        self.members = frozenset(self.listed)
        self.kind = FAST_KINDS[kind]
        return True

    cdef object eval(self, dict act, Scope sc):
        cdef object l = self.left.eval(act, sc)
        if type(l) is self.kind:
            return l in self.members
        return LIB_CONTAINS(l, self.listed)


cdef class In(Binary):
    cdef object eval(self, dict act, Scope sc):
        cdef object l = self.left.eval(act, sc)
        cdef object r = self.right.eval(act, sc)
        if type(r) is dict and type(l) is str and not is_error(l):
            return l in <dict>r
        return LIB_CONTAINS(l, r)


# ------------------------------------------------------------------ arithmetic


cdef enum:
    ADD, SUB, MUL


cdef class Arith(Binary):
    cdef object eval(self, dict act, Scope sc):
        cdef object l = self.left.eval(act, sc)
        cdef object r = self.right.eval(act, sc)
        cdef type t = type(l)
        cdef long long a, b, out
        cdef bint overflow
        if t is type(r):
            if t is int:
                a = l
                b = r
                if self.op == ADD:
                    overflow = expr_add_overflow(a, b, &out)
                elif self.op == SUB:
                    overflow = expr_sub_overflow(a, b, &out)
                else:
                    overflow = expr_mul_overflow(a, b, &out)
                if not overflow:
                    return out
            elif t is float:
                if self.op == ADD:
                    return <double>l + <double>r
                if self.op == SUB:
                    return <double>l - <double>r
                return <double>l * <double>r
            elif t is str and self.op == ADD:
                return <str>l + <str>r
        return apply2(self.fn, l, r)


cdef class Negate(Unary):
    cdef object eval(self, dict act, Scope sc):
        cdef object v = self.operand.eval(act, sc)
        cdef long long a
        if type(v) is int:
            a = v
            if a >= -9223372036854775807:
                return -a
        elif type(v) is float:
            return -<double>v
        return apply1(self.fn, v)


# ------------------------------------------------------------------ functions


cdef class Index(Binary):
    cdef object eval(self, dict act, Scope sc):
        cdef object o = self.left.eval(act, sc)
        cdef object k = self.right.eval(act, sc)
        cdef PyObject* p
        cdef type t = type(o)
        cdef long long i
        if t is dict:
            if type(k) is str:
                p = PyDict_GetItemWithError(o, k)
                if p is not NULL:
                    return cel_in(<object>p)
        elif t is list:
            if type(k) is int:
                i = k
                if 0 <= i < PyList_GET_SIZE(o):
                    return cel_in(<object>PyList_GET_ITEM(o, i))
        elif t is tuple:
            if type(k) is int:
                i = k
                if 0 <= i < PyTuple_GET_SIZE(o):
                    return cel_in(<object>PyTuple_GET_ITEM(o, i))
        return LIB_INDEX(o, k)


cdef class Size(Unary):
    """``len`` for the exact types its declaration (``_expr_lib.OVERLOADS``) names."""
    cdef tuple kinds

    cdef object eval(self, dict act, Scope sc):
        cdef object v = self.operand.eval(act, sc)
        cdef type t = type(v)
        cdef Py_ssize_t i
        for i in range(PyTuple_GET_SIZE(self.kinds)):
            if <object>PyTuple_GET_ITEM(self.kinds, i) is t:
                return len(v)
        return apply1(self.fn, v)


cdef enum:
    STARTS, ENDS, CONTAINS


cdef class StrMethod(Binary):
    """A string predicate declared for ``(string, string)``, answered natively."""
    cdef object eval(self, dict act, Scope sc):
        cdef object s = self.left.eval(act, sc)
        cdef object a = self.right.eval(act, sc)
        if type(s) is str and type(a) is str:
            if self.op == ENDS:
                return PyUnicode_Tailmatch(s, a, 0, PY_SSIZE_T_MAX, 1) == 1
            if self.op == STARTS:
                return PyUnicode_Tailmatch(s, a, 0, PY_SSIZE_T_MAX, -1) == 1
            return PyUnicode_Contains(s, a) == 1
        return apply2(self.fn, s, a)


cdef class Call1(Unary):
    """A function of one value (a method's target, or a global's argument) in the table."""
    cdef object eval(self, dict act, Scope sc):
        return apply1(self.fn, self.operand.eval(act, sc))


cdef class Call2(Binary):
    cdef object eval(self, dict act, Scope sc):
        cdef object a = self.left.eval(act, sc)
        return apply2(self.fn, a, self.right.eval(act, sc))


cdef class Call(Node):
    """Any other function, operator or method: the runtime's ``call``."""
    cdef str name
    cdef bint receiver
    cdef tuple args     # of Node; a method's target first

    cdef object eval(self, dict act, Scope sc):
        return LIB_CALL(self.name, evaluate_all(self.args, act, sc), self.receiver)


cdef tuple evaluate_all(tuple nodes, dict act, Scope sc):
    cdef Py_ssize_t n = PyTuple_GET_SIZE(nodes)
    cdef list values = [None] * n
    cdef Py_ssize_t i
    for i in range(n):
        values[i] = (<Node>PyTuple_GET_ITEM(nodes, i)).eval(act, sc)
    return tuple(values)


cdef class ListLit(Node):
    cdef tuple items

    cdef object eval(self, dict act, Scope sc):
        cdef Py_ssize_t n = PyTuple_GET_SIZE(self.items)
        cdef list values = [None] * n
        cdef Py_ssize_t i
        for i in range(n):
            values[i] = (<Node>PyTuple_GET_ITEM(self.items, i)).eval(act, sc)
        for i in range(n):
            if is_error(values[i]):
                return values[i]
        return values


cdef class MapLit(Node):
    cdef tuple keys, values

    cdef object eval(self, dict act, Scope sc):
        cdef Py_ssize_t n = PyTuple_GET_SIZE(self.keys)
        cdef list pairs = [None] * n
        cdef Py_ssize_t i
        for i in range(n):
            pairs[i] = ((<Node>PyTuple_GET_ITEM(self.keys, i)).eval(act, sc),
                        (<Node>PyTuple_GET_ITEM(self.values, i)).eval(act, sc))
        return LIB_MAKE_MAP(pairs)


cdef class Failing(Node):
    """A node that always evaluates to the same error (a message literal)."""
    cdef object error

    cdef object eval(self, dict act, Scope sc):
        return self.error


cdef enum:
    M_ALL, M_EXISTS, M_EXISTS_ONE, M_MAP, M_FILTER


cdef class Comprehension(Node):
    """``target.all(x, p)`` and the other macros.  ``all``/``exists`` stop at their deciding
    value, and otherwise answer the first problem (an error, or a non-bool as no matching
    overload for the macro); the others stop at the first problem."""
    cdef Node target, pred, transform
    cdef int macro
    cdef str name
    cdef Py_ssize_t slot

    cdef object eval(self, dict act, Scope sc):
        cdef object items = LIB_ITERATE(self.target.eval(act, sc))
        if is_error(items):
            return items
        cdef object x, p, v
        cdef object problem = None
        cdef object decisive
        cdef Py_ssize_t count = 0
        cdef list out = None
        cdef int macro = self.macro
        if macro == M_ALL or macro == M_EXISTS:
            decisive = macro == M_EXISTS
            for x in items:
                step(sc)
                sc.slots[self.slot] = x
                p = self.pred.eval(act, sc)
                if p is decisive:
                    return decisive
                if (p is not True and p is not False) and problem is None:
                    problem = p if is_error(p) else NO_OVERLOAD(self.name, p)
            return (not decisive) if problem is None else problem
        if macro == M_EXISTS_ONE:
            for x in items:
                step(sc)
                sc.slots[self.slot] = x
                p = self.pred.eval(act, sc)
                if p is True:
                    count += 1
                elif p is not False:
                    return p if is_error(p) else NO_OVERLOAD(self.name, p)
            return count == 1
        out = []
        if macro == M_FILTER or self.transform is not None:
            for x in items:
                step(sc)
                sc.slots[self.slot] = x
                p = self.pred.eval(act, sc)
                if p is True:
                    if self.transform is None:
                        out.append(x)
                    else:
                        v = self.transform.eval(act, sc)
                        if is_error(v):
                            return v
                        out.append(v)
                elif p is not False:
                    return p if is_error(p) else NO_OVERLOAD(self.name, p)
            return out
        for x in items:
            step(sc)
            sc.slots[self.slot] = x
            v = self.pred.eval(act, sc)
            if is_error(v):
                return v
            out.append(v)
        return out


cdef inline int step(Scope sc) except -1:
    sc.steps += 1
    if sc.steps > sc.max_steps:
        raise comprehension_limit_error(sc.max_steps)
    return 0


# ------------------------------------------------------------------ compiling


cdef class Operator:
    """How a dialect runs one operator: the node class (a Unary, a Binary or the Ternary),
    its native variant ``op``, and the class taking a literal right operand, if any (with the
    tag of the AST nodes it may take, and the same operator without it as ``plain``).  ``fn``
    is the runtime's function of a CEL operator, found on bind."""
    cdef type node
    cdef int op
    cdef Py_ssize_t arity
    cdef type with_literal
    cdef str literal_tag
    cdef Operator plain
    cdef object fn


cdef Operator entry(type node, int op=0, type with_literal=None, str literal_tag=None):
    cdef Operator made = Operator.__new__(Operator)
    made.node = node
    made.op = op
    made.arity = 3 if node is Ternary else (1 if issubclass(node, Unary) else 2)
    made.with_literal = with_literal
    made.literal_tag = literal_tag
    if with_literal is not None:
        made.plain = entry(node, op)
    return made


#: CEL's operators, by the parser's names: one entry an operator.  A dialect with other
#: semantics for some of them compiles with its own table (``Builder.operators``).
cdef dict CEL_OPERATORS = {
    "_&&_": entry(Logical, AND), "_||_": entry(Logical, OR), "_?_:_": entry(Ternary),
    "!_": entry(Not), "-_": entry(Negate),
    "_==_": entry(Eq, EQ, EqConst, "const"), "_!=_": entry(Eq, NE, EqConst, "const"),
    "_<_": entry(Compare, LT), "_<=_": entry(Compare, LE),
    "_>_": entry(Compare, GT), "_>=_": entry(Compare, GE),
    "_+_": entry(Arith, ADD), "_-_": entry(Arith, SUB), "_*_": entry(Arith, MUL),
    "@in": entry(In, 0, InSet, "list"), "_[_]": entry(Index),
}

#: The implementations with native code: a function of the runtime's table whose declared
#: overloads (``_expr_lib.OVERLOADS``) all have one of these runs natively.
cdef dict NATIVE = {
    len: entry(Size),
    str.startswith: entry(StrMethod, STARTS),
    str.endswith: entry(StrMethod, ENDS),
    str.__contains__: entry(StrMethod, CONTAINS),
}
#: (name, arity, receiver) -> (Operator, the declared exact argument types), made on bind.
cdef dict NATIVE_FUNCTIONS = None


cdef dict native_functions(dict overloads):
    cdef dict found = {}
    for key, declared in overloads.items():
        natives = {NATIVE.get(fn) for fn in declared.values()}
        if len(natives) == 1 and None not in natives:
            found[key] = (natives.pop(), tuple([kinds[0] for kinds in declared
                                                if type(kinds[0]) is type]))
    return found


cdef enum:
    K_CONST, K_IDENT, K_SELECT, K_HAS, K_CALL, K_METHOD, K_LIST, K_MAP, K_STRUCT, K_COMPREHENSION

#: The AST's node tags (``_expr_ast``).
cdef dict NODE_KINDS = {
    "const": K_CONST, "ident": K_IDENT, "select": K_SELECT, "has": K_HAS, "call": K_CALL,
    "method": K_METHOD, "list": K_LIST, "map": K_MAP, "struct": K_STRUCT,
    "comprehension": K_COMPREHENSION,
}

cdef dict MACRO_KINDS = {
    "all": M_ALL, "exists": M_EXISTS, "exists_one": M_EXISTS_ONE, "map": M_MAP, "filter": M_FILTER,
}
#: Literal kinds a native ``==`` or ``in`` fast path compares by exact type.
cdef dict FAST_KINDS = {"int": int, "string": str}
cdef tuple NO_ARGS = ()


cdef inline Node new_node(type kind):
    return <Node>(<PyTypeObject*>kind).tp_new(kind, <PyObject*>NO_ARGS, NULL)


cdef bint all_constant(tuple nodes):
    for node in nodes:
        if type(node) is not Const:
            return False
    return True


cdef Node constant(object value):
    cdef Const built = Const.__new__(Const)
    built.value = value
    return built


cdef object literal_value(str kind, object value):
    if kind is not None and str_equal(kind, "uint"):
        return UINT(value)
    return value


cdef str chain_root(tuple node, dict scope):
    """The variable a select chain ``name.f1.f2...`` is rooted at (not a comprehension's);
    None for any other chain."""
    cdef tuple operand = node
    while tag_is(operand[0], "select"):
        operand = operand[1]
    if not tag_is(operand[0], "ident") or operand[1] in scope:
        return None
    return operand[1]


cdef tuple chain_fields(tuple node):
    """The field names of the select chain ``node`` (checked by ``chain_root``), in order."""
    cdef tuple operand = node
    cdef Py_ssize_t n = 0
    while tag_is(operand[0], "select"):
        n += 1
        operand = operand[1]
    cdef tuple fields = PyTuple_New(n)
    operand = node
    while n:
        n -= 1
        field = operand[2]
        Py_INCREF(field)
        tuple_steal(fields, n, <PyObject*>field)
        operand = operand[1]
    return fields


cdef inline bint tag_is(object tag, str name) except -1:
    """``tag == name`` for an AST node's tag, an exact str compared without ordering it."""
    if type(tag) is str:
        return str_equal(tag, name)
    return tag == name


cdef str variable_name(str name):
    """A variable's name as written, less the leading dot of a root-qualified ``.name``."""
    if PyUnicode_GET_LENGTH(name) and PyUnicode_READ_CHAR(name, 0) == 46:
        return name[1:]
    return name


cdef class Builder:
    """Compiles one AST.  ``slots`` is the deepest comprehension nesting (each nesting level
    holds its loop variable in its own slot of the evaluation's ``Scope``)."""
    cdef Py_ssize_t slots
    cdef Py_ssize_t depth
    cdef bint loops
    cdef bint dotted
    cdef dict operators     # the dialect's operator table (``CEL_OPERATORS``)

    cdef Node build(self, tuple node, dict scope):
        cdef str tag = node[0]
        cdef object found = NODE_KINDS.get(tag)    # one lookup, not a comparison per tag
        cdef Node built
        if found is None:
            raise ValueError(f"unknown expression node {tag!r}")
        cdef int kind = found
        if kind == K_CONST:
            built = Const.__new__(Const)
            (<Const>built).value = literal_value(node[1], node[2])
            return built
        if kind == K_IDENT:
            return self.ident(node[1], scope)
        if kind == K_SELECT:
            if self.dotted:
                built = self.dotted_chain(node, scope)
                if built is not None:
                    return built
            built = self.path(node, scope)
            if built is not None:
                return built
            operand = self.build(node[1], scope)
            built = Select.__new__(Select)
            (<Select>built).operand = operand
            (<Select>built).field = node[2]
            (<Select>built).missing = no_such_key(node[2])
            return built
        if kind == K_HAS:
            built = Has.__new__(Has)
            (<Has>built).operand = self.build(node[1], scope)
            (<Has>built).field = node[2]
            return built
        if kind == K_CALL:
            return self.call(node[1], node[2], scope)
        if kind == K_METHOD:
            return self.method(node[1], node[2], node[3], scope)
        if kind == K_LIST:
            items = tuple([self.build(e, scope) for e in node[1]])
            if all_constant(items):
                # A constant list is a tuple, made once (the runtime never changes a list),
                # or its first error.
                values = tuple([(<Const>item).value for item in items])
                for value in values:
                    if is_error(value):
                        return constant(value)
                return constant(values)
            built = ListLit.__new__(ListLit)
            (<ListLit>built).items = items
            return built
        if kind == K_MAP:
            keys = tuple([self.build(k, scope) for k, _ in node[1]])
            values = tuple([self.build(v, scope) for _, v in node[1]])
            if all_constant(keys) and all_constant(values):
                return constant(LIB_MAKE_MAP([((<Const>k).value, (<Const>v).value)
                                              for k, v in zip(keys, values)]))
            built = MapLit.__new__(MapLit)
            (<MapLit>built).keys = keys
            (<MapLit>built).values = values
            return built
        if kind == K_STRUCT:
            built = Failing.__new__(Failing)
            (<Failing>built).error = LIB_ERROR("message", name=node[1])
            return built
        return self.comprehension(node, scope)

    cdef Node path(self, tuple node, dict scope):
        """``name.f1.f2...`` rooted at a variable (not a comprehension's): one Path node."""
        cdef str name = chain_root(node, scope)
        if name is None:
            return None
        name = variable_name(name)
        cdef tuple key = chain_fields(node)
        cdef tuple known = PATHS.get(key)
        if known is None:
            if len(PATHS) >= MISSING_LIMIT:
                PATHS.clear()
            known = PATHS[key] = (key, tuple([no_such_key(f) for f in key]))
        cdef Path built = Path.__new__(Path)
        built.name = name
        built.missing = missing_name(name)
        built.fields = known[0]
        built.missing_keys = known[1]
        return built

    cdef Node dotted_chain(self, tuple node, dict scope):
        cdef str root = chain_root(node, scope)
        if root is None:
            return None
        cdef list fields = list(chain_fields(node))
        root = variable_name(root)
        cdef DottedChain built = DottedChain.__new__(DottedChain)
        built.root = root
        built.fields = tuple(fields)
        built.names = tuple([".".join([root] + fields[:i]) for i in range(len(fields) + 1)])
        return built

    cdef Node ident(self, str name, dict scope):
        cdef Node built
        if name in scope:
            built = Local.__new__(Local)
            (<Local>built).slot = scope[name]
            return built
        built = Ident.__new__(Ident)
        (<Ident>built).name = variable_name(name)
        (<Ident>built).missing = missing_name((<Ident>built).name)
        return built

    cdef Node call(self, str name, tuple args, dict scope):
        cdef Operator found = self.operators.get(name)
        if found is not None and found.arity == len(args):
            return self.operator(found, found.fn, args, scope)
        return self.function(name, False, args, scope)

    cdef Node operator(self, Operator found, object fn, tuple args, dict scope):
        """The node ``found`` names for ``args`` (AST nodes), ``fn`` its runtime function."""
        cdef Node built
        cdef object literal
        if found.with_literal is not None:
            literal = args[1]
            if (type(literal) is tuple and PyTuple_GET_SIZE(literal)
                    and type(literal[0]) is str and not str_equal(literal[0], found.literal_tag)):
                # What ``take`` would refuse at once, known without making the node.
                return self.operator(found.plain, fn, args, scope)
            built = new_node(found.with_literal)
            if (<WithLiteral>built).take(args[1]):
                (<WithLiteral>built).left = self.build(args[0], scope)
                (<WithLiteral>built).fn = fn
                (<WithLiteral>built).op = found.op
                return built
        built = new_node(found.node)
        if found.arity == 1:
            (<Unary>built).operand = self.build(args[0], scope)
            (<Unary>built).fn = fn
            (<Unary>built).op = found.op
            return built
        (<Binary>built).left = self.build(args[0], scope)
        (<Binary>built).right = self.build(args[1], scope)
        (<Binary>built).fn = fn
        (<Binary>built).op = found.op
        if found.arity == 3:
            (<Ternary>built).other = self.build(args[2], scope)
        return built

    cdef Node method(self, str name, tuple target, tuple args, dict scope):
        return self.function(name, True, (target,) + args, scope)

    cdef Node function(self, str name, bint receiver, tuple args, dict scope):
        """A call to the runtime's table (``args``: a method's target first): native when
        the function's declared overloads are, direct when it is known here."""
        cdef Py_ssize_t n = len(args)
        cdef tuple key = (name, n - 1 if receiver else n, receiver)
        cdef tuple native = NATIVE_FUNCTIONS.get(key)
        cdef Node built
        if native is not None and (<Operator>native[0]).arity == n:
            built = self.operator(native[0], FUNCTIONS[key], args, scope)
            if type(built) is Size:
                (<Size>built).kinds = native[1]
            return built
        cdef object fn = FUNCTIONS.get(key)
        cdef tuple nodes = tuple([self.build(a, scope) for a in args])
        if fn is not None and all_constant(nodes):
            # Every function of the table is pure: timestamp("...") is parsed once.
            return constant(LIB_CALL(name, tuple([(<Const>a).value for a in nodes]), receiver))
        if fn is not None and n == 1:
            built = Call1.__new__(Call1)
            (<Unary>built).operand = nodes[0]
            (<Unary>built).fn = fn
            return built
        if fn is not None and n == 2:
            built = Call2.__new__(Call2)
            (<Binary>built).left = nodes[0]
            (<Binary>built).right = nodes[1]
            (<Binary>built).fn = fn
            return built
        built = Call.__new__(Call)
        (<Call>built).name = name
        (<Call>built).receiver = receiver
        (<Call>built).args = nodes
        return built

    cdef Node comprehension(self, tuple node, dict scope):
        cdef Comprehension built = Comprehension.__new__(Comprehension)
        cdef tuple rest = node[4]
        built.target = self.build(node[2], scope)
        built.slot = self.depth
        inner = dict(scope)
        inner[node[3]] = built.slot
        self.loops = True
        self.depth += 1
        if self.depth > self.slots:
            self.slots = self.depth
        built.macro = MACRO_KINDS[node[1]]
        built.name = node[1]
        built.pred = self.build(rest[0], inner)
        built.transform = self.build(rest[1], inner) if len(rest) > 1 else None
        self.depth -= 1
        return built


# ------------------------------------------------------------------ programs


cdef object SUBST = None


cdef object subst_module():
    global SUBST
    if SUBST is None:
        from inngest_core import _expr_subst
        SUBST = _expr_subst
    return SUBST


cdef class Program:
    """A compiled CEL expression: immutable, safe to share between threads.

    >>> p = compile_program("a.b == 'x'")
    >>> p.evaluate({"a": {"b": "x"}})
    True
    >>> p
    Program("a.b == 'x'")
    """
    cdef readonly str source
    cdef frozenset free         # the free variables, found when first asked for
    cdef Node root
    cdef Py_ssize_t slots
    cdef bint loops
    cdef Py_ssize_t max_steps
    cdef tuple dotted_names     # dotted names a select chain could mean (None: not yet found)
    cdef Node dotted_root       # the tree resolving them, compiled when first needed
    cdef Py_ssize_t deep        # the tree's height bound when past the default depth, else 0

    def __init__(self, str source, tuple ast, max_comprehension_steps=1_000_000,
                 max_depth=250):
        """A program for an already parsed tree (``compile_program`` parses and builds).
        ``max_depth`` is taken for the Python twin's signature: here the tree's own height
        is held to ``MAX_NESTING``, the most C recursion is trusted with."""
        if self.source is not None:
            raise AttributeError("Program is immutable")
        setup(self, source, ast, max_comprehension_steps, height(ast))

    def evaluate(self, activation):
        """The value of the expression for ``activation`` (a mapping of variable names to
        Python values); raises ``EvaluationError`` when evaluation fails."""
        try:
            if self.deep:  # evaluating (and converting back) recurse once per level
                with RECURSION_ROOM(self.deep):
                    return self.result(activation)
            return self.result(activation)
        except RecursionError:  # data, not source, nested past the interpreter's limit
            raise LIB_ERROR("value_too_deep").exception() from None

    cdef object result(self, object activation):
        cdef object v = self.run(activation)
        cdef type t = type(v)
        if t is bool or t is str or t is int or t is float or v is None:
            return v
        if t is ERROR:
            raise (<object>v).exception()
        return TO_PYTHON(v)

    def matches(self, activation):
        """True when the expression evaluates to exactly ``true`` for ``activation``; any
        other value, or an evaluation error, is False (a limit still raises)."""
        try:
            if self.deep:
                with RECURSION_ROOM(self.deep):
                    return self.run(activation) is True
            return self.run(activation) is True
        except (EvaluationError, RecursionError):  # a value CEL cannot take, or too deep
            return False

    cdef object run(self, object activation):
        cdef dict act
        cdef Scope sc = None
        cdef Node root = self.root
        if type(activation) is dict:
            act = <dict>activation
            if not dict_str_keyed(act):
                CHECK_KEYS(act)
        elif issubclass(type(activation), _Mapping):  # the class is asked, not the object
            act = PLAIN_MAPPING(activation)
        else:
            raise TypeError(f"activation must be a mapping, not {type(activation).__name__}")
        if self.dotted_names is None:
            self.find_names()
        if self.dotted_names and binds_dotted(act, self.dotted_names):
            root = self.dotted()
        if self.loops:
            sc = Scope.__new__(Scope)
            sc.slots = [None] * self.slots
            sc.steps = 0
            sc.max_steps = self.max_steps
        return root.eval(act, sc)

    cdef int find_names(self) except -1:
        """The free variables and the dotted names, from the shared tree walk: once per
        program, on the first evaluation or when ``variables`` is asked for, not per compile
        (a stored wait may never be evaluated; a benign race computes the same twice)."""
        free, dotted = shared_free_names(self.ast, TYPES)
        self.free = shared(free)
        self.dotted_names = shared(dotted)
        return 0

    @property
    def variables(self):
        """The free variable names (a frozenset)."""
        if self.free is None:
            self.find_names()
        return self.free

    cdef Node dotted(self):
        # A benign race: two threads may both compile it; either tree is the same.
        cdef Builder builder
        if self.dotted_root is None:
            builder = Builder.__new__(Builder)
            builder.operators = CEL_OPERATORS
            builder.dotted = True
            self.dotted_root = builder.build(self.ast, {})
        return self.dotted_root

    def substitute(self, bindings):
        """A new program with every selection rooted at a variable of ``bindings`` replaced
        by the literal it selects, folded (see ``inngest_core._expr_subst.substitute``).

        >>> compile_program("event.id == async.id").substitute({"event": {"id": "x"}})
        Program('"x" == async.id')
        """
        bind()
        module = subst_module()
        tree = module.substitute(self.ast, bindings)
        cdef Py_ssize_t deepest = height(tree)  # substituted data can nest deeply
        if deepest > MAX_NESTING:
            raise depth_limit_error(MAX_NESTING)
        with RECURSION_ROOM(deepest):  # unparse recurses in Python, once per level
            source = module.unparse(tree)
        return make_program(source, tree, self.max_steps, deepest)

    def __str__(self):
        return self.source

    @property
    def ast(self):
        """The syntax tree, read again from ``source`` when asked for: a server may hold a
        million programs, and keeping each tree would double their memory for what parsing
        gives back in about a microsecond."""
        return parse(self.source, max_source_length=len(self.source), max_depth=UNBOUNDED)

    def __repr__(self):
        return f"Program({self.source!r})"

    def __eq__(self, other):
        if not isinstance(other, Program):
            return NotImplemented
        return self.ast == (<Program>other).ast

    def __ne__(self, other):
        if not isinstance(other, Program):
            return NotImplemented
        return self.ast != (<Program>other).ast

    def __hash__(self):
        return hash(self.ast)


cdef bint binds_dotted(dict act, tuple names) except -1:
    """Does the activation bind one of the dotted names a select chain could mean?"""
    cdef Py_ssize_t pos = 0
    cdef PyObject* key
    cdef PyObject* value
    while PyDict_Next(act, &pos, &key, &value):
        if type(<object>key) is str and key_has_dot(<object>key):
            for name in names:
                if name in act:
                    return True
            return False
    return False




cdef Program make_program(str source, tuple tree, Py_ssize_t max_steps, Py_ssize_t height):
    cdef Program program = Program.__new__(Program)
    setup(program, source, tree, max_steps, height)
    return program


#: Parsing keeps an explicit stack, so re-reading a program's own source needs no depth bound.
cdef Py_ssize_t UNBOUNDED = 1 << 62
#: One object per distinct variable set and name tuple: most stored programs share them.
cdef dict SHARED = {}


cdef object shared(object value):
    if len(SHARED) >= 65536:  # distinct sets are few; a flood of them is not kept
        return value
    return SHARED.setdefault(value, value)


cdef int setup(Program program, str source, tuple tree, Py_ssize_t max_steps,
               Py_ssize_t height) except -1:
    bind()
    if height > MAX_NESTING:  # a raised max_depth, or deeply nested substituted data
        raise depth_limit_error(MAX_NESTING)
    cdef Builder builder = Builder.__new__(Builder)
    builder.operators = CEL_OPERATORS
    program.root = builder.build(tree, {})
    program.deep = height if height > 250 else 0
    program.source = source
    program.slots = builder.slots
    program.loops = builder.loops
    program.max_steps = max_steps
    return 0


def compile_program(source, *, max_source_length=100_000, max_depth=250,
                    max_comprehension_steps=1_000_000):
    """Parse and compile CEL ``source`` (uncached: ``inngest_core.compile_expression``
    caches).

    >>> compile_program("size(xs) > 1").evaluate({"xs": [1, 2]})
    True
    """
    # Parsing never recurses, but compiling and evaluating do: at most MAX_NESTING levels.
    cdef Py_ssize_t bound = min(max_depth, MAX_NESTING)
    tree = parse(source, max_source_length=max_source_length, max_depth=bound)
    return make_program(source, tree, max_comprehension_steps, bound)
