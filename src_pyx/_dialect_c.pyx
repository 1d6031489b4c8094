# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled twin of the ``"inngest"`` dialect's evaluator (the Python twin is
``inngest_core/_dialect_py.py``): the per-call tree walk, and nothing else.

What runs once per compile, and every rule's slow case, is plain Python both twins share, in
``inngest_core._expr_dialect`` (each rule there cites the Go file it reproduces): lifting, the
registered paths, the unknown decorator (``dialect_call``), the custom functions, the result
mapping.  The tree is built once into ``DNode`` objects whose ``eval`` is a C virtual call.
Native code answers only what is certain -- a present field whose path holds only dicts, two
values of one primitive type under a comparison, bools under ``&&``/``||``/``!`` -- and hands
every other case to the shared decorator, so the twins cannot drift apart.

A select chain (``event.data.x``) is where the dialect differs from CEL most: a *registered*
path (``attrs.go: parseUsedAttributes``) the data lacks is *unknown*, and it is unknown for
every chain it is a prefix of.  The Python twin finds the missing registered paths up front;
here each chain knows at build time the longest registered prefix of its own path
(``known``), and a walk that stops after ``k`` fields is unknown exactly when ``k < known``
(every registered prefix longer than ``k`` is missing, every shorter one is present).
"""

from cpython.object cimport PyObject
from cpython.dict cimport PyDict_GetItemWithError, PyDict_Next
from cpython.unicode cimport PyUnicode_Tailmatch, PyUnicode_Contains
from cpython.long cimport PyLong_AsLongLongAndOverflow
from cpython.tuple cimport PyTuple_GET_SIZE, PyTuple_GET_ITEM

from collections.abc import Mapping as _Mapping

from _owned cimport dict_str_keyed, check_dict_kind, key_has_dot

check_dict_kind()

from inngest_core import _expr_lib as lib
from inngest_core import _expr_dialect as dialect
from inngest_core._expr_dialect import _chain as chain_of
from inngest_core.errors import EvaluationError

__all__ = ["Kernel"]

cdef object UNKNOWN = dialect.UNKNOWN
cdef object NIL = dialect.NIL
cdef type ERROR = lib.CelError
cdef type UINT = lib.UInt
cdef object TO_CEL = lib.to_cel
cdef object CHECK_KEYS = lib.check_keys
cdef object PLAIN_MAPPING = lib.plain_mapping
cdef object LIB_SELECT = lib.select
cdef object LIB_HAS = lib.has_field
cdef object MAKE_MAP = lib.make_map
cdef object DIALECT_CALL = dialect.dialect_call
cdef object STANDARD = dialect._standard
cdef object ITERABLE = dialect.iterable
cdef object RESULT_VALUE = dialect.result_value
cdef object WALK = dialect._walk
cdef object START = dialect._start
cdef dict TYPES = lib.TYPES
cdef str NO_OVERLOAD = dialect._NO_OVERLOAD


cdef inline bint special(object v) noexcept:
    """Unknown or an error: what a read or an operand passes on as it is."""
    return v is UNKNOWN or type(v) is ERROR


cdef inline object cel_in(object v):
    """A value read from the activation as ``to_cel`` makes it (the primitives Python and CEL
    share pass as they are; a dict once its keys are known to be owned)."""
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


cdef bint truthy(object v) except -1:
    """``unknown.go: isTruthy`` (as ``_expr_dialect.truthy``)."""
    cdef type t = type(v)
    if t is bool:
        return v is True
    if v is NIL or v is UNKNOWN or v is None or t is ERROR:
        return False
    if t is str:
        return len(<str>v) != 0
    if t is int or t is UINT or t is float:
        return v != 0
    return True


cdef object truthy_logic(bint is_or, object l, object r):
    """``unknown.go``'s ``&&``/``||`` on any operands (R11): two bools combine; otherwise the
    first operand whose truthiness is the absorbing one, else the right operand."""
    if type(l) is bool and type(r) is bool:
        return (l is True or r is True) if is_or else (l is True and r is True)
    if truthy(l) == is_or:
        return l
    if truthy(r) == is_or:
        return r
    return r


cdef class Env:
    """Per-evaluation state when the program needs one: comprehension variables, the step
    budget, and whether the activation names variables with dots."""
    cdef list slots
    cdef Py_ssize_t budget
    cdef bint dotted
    cdef dict act           # when dotted: the activation with the lifted ``vars`` (general reads)


cdef class DNode:
    cdef object eval(self, dict act, Env env):
        raise NotImplementedError


cdef class Const(DNode):
    cdef object value

    cdef object eval(self, dict act, Env env):
        return self.value


cdef class Local(DNode):
    cdef Py_ssize_t slot

    cdef object eval(self, dict act, Env env):
        return env.slots[self.slot]


cdef class Ident(DNode):
    cdef str name
    cdef object missing     # a type name's value, or the error, when the activation lacks it

    cdef object eval(self, dict act, Env env):
        cdef PyObject* p = PyDict_GetItemWithError(act, self.name)
        if p is NULL:
            return self.missing
        return cel_in(<object>p)


cdef object select_value(object o, str field):
    """``operand.field`` on a value already read (the Python twin's ``_select``)."""
    cdef PyObject* p
    if type(o) is dict:
        p = PyDict_GetItemWithError(o, field)
        if p is NULL:
            return ERROR("no such key: " + field)
        return cel_in(<object>p)
    if special(o) or o is NIL:
        return o
    if issubclass(type(o), _Mapping):
        return LIB_SELECT(o, field)
    return ERROR("no such key: " + field)


cdef class Select(DNode):
    """``operand.field`` where the operand is not a variable's chain (a call's result, a
    comprehension variable): no path is registered for it."""
    cdef DNode operand
    cdef str field

    cdef object eval(self, dict act, Env env):
        return select_value(self.operand.eval(act, env), self.field)


cdef Py_ssize_t walk(object raw, tuple fields, Py_ssize_t n, PyObject** out,
                     bint* foreign) except -2:
    """How many of the first ``n`` fields a walk from ``raw`` through dicts finds (``data.go:
    Data.Get``); ``*out`` the last value found.  -1: a mapping that is not a dict is on the
    way (the general read takes it).  ``*foreign``: a dict passed has a key that is not a str
    (reading converts it, and may raise, as the Python twin's ``to_cel`` does)."""
    cdef PyObject* p
    cdef object v = raw
    cdef Py_ssize_t i
    for i in range(n):
        if type(v) is dict:
            if not dict_str_keyed(v):
                foreign[0] = True
            p = PyDict_GetItemWithError(v, <str>PyTuple_GET_ITEM(fields, i))
            if p is NULL:
                out[0] = <PyObject*>v
                return i
            v = <object>p
        elif issubclass(type(v), _Mapping):
            return -1
        else:
            out[0] = <PyObject*>v
            return i
    out[0] = <PyObject*>v
    return n


cdef class Chain(DNode):
    """``root.f1.f2...`` read from the activation (``unknown.go`` / ``attrs.go``: missing
    registered paths are unknown)."""
    cdef str root
    cdef tuple fields
    cdef tuple path             # (root,) + fields
    cdef Py_ssize_t known       # the longest registered prefix, in fields (0: none)
    cdef tuple prefixes         # every registered prefix length, for the general read
    cdef bint bound             # the root is the lifted ``vars``
    cdef object root_value      # ... and these are they
    cdef object unbound         # "no such attribute(s): root.f1..." (made once)
    cdef tuple missing_keys     # missing_keys[i]: "no such key: fields[i]" (made once)

    cdef object eval(self, dict act, Env env):
        cdef PyObject* p
        cdef PyObject* out = NULL
        cdef bint foreign = False
        cdef Py_ssize_t k, n = PyTuple_GET_SIZE(self.fields)
        cdef object raw
        if env is not None and env.dotted:
            return self.general(env.act)
        if self.bound:
            raw = self.root_value
        else:
            p = PyDict_GetItemWithError(act, self.root)
            if p is NULL:
                return UNKNOWN if self.known > 0 else self.unbound
            raw = <object>p
        k = walk(raw, self.fields, n, &out, &foreign)
        if k < 0:
            return self.general(act if not self.bound else with_vars(act, raw))
        if k < n:
            if k < self.known:
                return UNKNOWN
            convert(raw, self.fields, k)
            return <object>PyTuple_GET_ITEM(self.missing_keys, k)
        if foreign:
            convert(raw, self.fields, n)
        return cel_in(<object>out)

    cdef bint unknown(self, dict act, bint dotted) except -1:
        """Is a registered prefix of the path missing from ``act``?  (Any activation: the
        shared ``_walk``, as the Python twin finds its missing paths.)"""
        for end in self.prefixes:
            if not WALK(act, self.path[:end + 1], dotted):
                return True
        return False

    cdef object general(self, dict act):
        """Any activation: the Python twin's steps (``_read_chain``) with the shared helpers."""
        cdef bint dotted = has_dotted_key(act)
        if self.unknown(act, dotted):
            return UNKNOWN
        cdef Py_ssize_t start = START(act, self.path) if dotted else (
            1 if self.root in act else 0)
        if not start:
            return self.unbound
        value = TO_CEL(act[".".join(self.path[:start])])
        for field in self.path[start:]:
            value = select_value(value, field)
            if special(value):
                return value
        return value


cdef int convert(object raw, tuple fields, Py_ssize_t k) except -1:
    """The conversions reading the first ``k`` fields makes (``to_cel`` of each value passed):
    an unowned key or an int out of range raises, as in the Python twin."""
    cdef object v = cel_in(raw)
    cdef Py_ssize_t i
    for i in range(k):
        v = cel_in((<dict>v)[<str>PyTuple_GET_ITEM(fields, i)])
    return 0


cdef dict with_vars(dict act, object values):
    cdef dict merged = dict(act)
    merged["vars"] = values
    return merged


cdef bint has_dotted_key(dict act) except -1:
    cdef Py_ssize_t pos = 0
    cdef PyObject* key
    cdef PyObject* value
    while PyDict_Next(act, &pos, &key, &value):
        if type(<object>key) is str and key_has_dot(<object>key):
            return True
    return False


cdef class Has(DNode):
    """``has(operand.field)``: unknown when a registered prefix of the whole path is missing
    (the operand's own chain is read after)."""
    cdef DNode operand
    cdef str field
    cdef Chain path             # the whole path as a chain (None: not a variable's chain)

    cdef object eval(self, dict act, Env env):
        cdef Chain whole = self.path
        cdef PyObject* p
        cdef PyObject* out = NULL
        cdef bint foreign = False
        cdef Py_ssize_t k
        cdef object raw
        if whole is not None and whole.known > 0:
            if env is not None and env.dotted:
                if whole.unknown(env.act, True):
                    return UNKNOWN
            else:
                if whole.bound:
                    raw = whole.root_value
                    p = <PyObject*>raw
                else:
                    p = PyDict_GetItemWithError(act, whole.root)
                if p is NULL:
                    return UNKNOWN
                k = walk(<object>p, whole.fields, PyTuple_GET_SIZE(whole.fields), &out,
                         &foreign)
                if k < 0:
                    if whole.unknown(act if not whole.bound else with_vars(act, <object>p),
                                     False):
                        return UNKNOWN
                elif k < whole.known:
                    return UNKNOWN
        cdef object o = self.operand.eval(act, env)
        if special(o):
            return o
        if type(o) is dict:
            return self.field in <dict>o
        if issubclass(type(o), _Mapping):
            return LIB_HAS(o, self.field)
        return ERROR(NO_OVERLOAD)


cdef class Logic(DNode):
    """``&&`` / ``||``: both sides, always (R11), then truthy logic."""
    cdef DNode left, right
    cdef bint is_or

    cdef object eval(self, dict act, Env env):
        cdef object l = self.left.eval(act, env)
        cdef object r = self.right.eval(act, env)
        if (l is True or l is False) and (r is True or r is False):
            if self.is_or:
                return l is True or r is True
            return l is True and r is True
        return truthy_logic(self.is_or, l, r)


cdef class Ternary(DNode):
    """``c ? a : b``: any value is a condition (R12)."""
    cdef DNode condition, then, other

    cdef object eval(self, dict act, Env env):
        if truthy(self.condition.eval(act, env)):
            return self.then.eval(act, env)
        return self.other.eval(act, env)


cdef class IndexConst(DNode):
    """``x[literal]``: a constant index is an attribute qualifier, never decorated."""
    cdef DNode operand
    cdef object key

    cdef object eval(self, dict act, Env env):
        cdef object o = self.operand.eval(act, env)
        if special(o) or o is NIL:
            return o
        return STANDARD("_[_]", (o, self.key), False)


cdef enum:
    EQ, NE, LT, LE, GT, GE, OTHER


cdef dict COMPARISON = {"_==_": EQ, "_!=_": NE, "_<_": LT, "_<=_": LE, "_>_": GT,
                        "_>=_": GE}


cdef class Call(DNode):
    """A call through the unknown decorator (``dialect_call``)."""
    cdef str function
    cdef tuple args

    cdef object eval(self, dict act, Env env):
        return DIALECT_CALL(self.function, evaluate_all(self.args, act, env))


cdef tuple evaluate_all(tuple nodes, dict act, Env env):
    return tuple([(<DNode>node).eval(act, env) for node in nodes])


cdef class Compare(DNode):
    """A comparison: two values of one primitive type compare natively (the decorator runs
    the standard call on one kind, whose answer this is); anything else is decorated."""
    cdef DNode left, right
    cdef str function
    cdef int op

    cdef object eval(self, dict act, Env env):
        cdef object l = self.left.eval(act, env)
        cdef object r = self.right.eval(act, env)
        cdef type t = type(l)
        if t is type(r):
            if t is str or t is int or t is float:
                return compare(self.op, l, r)
            if t is bool and (self.op == EQ or self.op == NE):
                return (l is r) if self.op == EQ else (l is not r)
        return DIALECT_CALL(self.function, (l, r))


cdef inline object compare(int op, object l, object r):
    if op == EQ:
        return l == r
    if op == NE:
        return l != r
    if op == LT:
        return l < r
    if op == LE:
        return l <= r
    if op == GT:
        return l > r
    return l >= r


cdef class InStrings(DNode):
    """``x in [literal strings]``: a str is looked up natively (CEL's ``in`` on one kind of
    element); anything else is decorated with the list."""
    cdef DNode item
    cdef frozenset members
    cdef list container

    cdef object eval(self, dict act, Env env):
        cdef object v = self.item.eval(act, env)
        if type(v) is str:
            return v in self.members
        return DIALECT_CALL("@in", (v, list(self.container)))


cdef class Not(DNode):
    cdef DNode operand

    cdef object eval(self, dict act, Env env):
        cdef object v = self.operand.eval(act, env)
        if v is True:
            return False
        if v is False:
            return True
        return DIALECT_CALL("!_", (v,))


cdef enum:
    STARTS, ENDS, CONTAINS


cdef dict STRING_METHODS = {"startsWith": STARTS, "endsWith": ENDS, "contains": CONTAINS}


cdef class Method(DNode):
    """``target.function(args)``, decorated as a receiver call."""
    cdef str function
    cdef DNode target
    cdef tuple args

    cdef object eval(self, dict act, Env env):
        cdef object target = self.target.eval(act, env)
        return DIALECT_CALL(self.function, (target,) + evaluate_all(self.args, act, env), True)


cdef class StrMethod(DNode):
    """``s.startsWith(t)``, ``endsWith``, ``contains``: two strs natively."""
    cdef str function
    cdef DNode target, arg
    cdef int op

    cdef object eval(self, dict act, Env env):
        cdef object s = self.target.eval(act, env)
        cdef object t = self.arg.eval(act, env)
        if type(s) is str and type(t) is str:
            if self.op == CONTAINS:
                return PyUnicode_Contains(s, t) == 1
            return PyUnicode_Tailmatch(s, t, 0, len(<str>s),
                                       1 if self.op == ENDS else -1) == 1
        return DIALECT_CALL(self.function, (s, t), True)


cdef class ListLit(DNode):
    cdef tuple elements

    cdef object eval(self, dict act, Env env):
        cdef list values = []
        cdef object v
        for element in self.elements:
            v = (<DNode>element).eval(act, env)
            if special(v):
                return v
            values.append(v)
        return values


cdef class MapLit(DNode):
    cdef tuple keys, values

    cdef object eval(self, dict act, Env env):
        cdef list entries = []
        cdef Py_ssize_t i
        cdef object k, v
        for i in range(PyTuple_GET_SIZE(self.keys)):
            k = (<DNode>PyTuple_GET_ITEM(self.keys, i)).eval(act, env)
            if special(k):
                return k
            v = (<DNode>PyTuple_GET_ITEM(self.values, i)).eval(act, env)
            if special(v):
                return v
            entries.append((k, v))
        return MAKE_MAP(entries)


cdef enum:
    EXISTS, ALL, EXISTS_ONE, FILTER, MAP


cdef dict MACROS = {"exists": EXISTS, "all": ALL, "exists_one": EXISTS_ONE, "filter": FILTER,
                    "map": MAP}


cdef class Comprehension(DNode):
    """A macro as cel-go expands it (``parser/macro.go``), its calls decorated and its
    ``&&``/``||`` truthy (R14): the Python twin's ``_comprehension`` step for step."""
    cdef DNode target
    cdef DNode predicate        # None for a two-argument map
    cdef DNode transform        # map only
    cdef int macro
    cdef Py_ssize_t slot

    cdef object eval(self, dict act, Env env):
        cdef object source = self.target.eval(act, env)
        if special(source) or source is NIL:
            return source
        cdef object items = ITERABLE(source)
        if type(items) is ERROR:
            return items
        cdef object acc
        cdef object condition
        cdef object value
        if self.macro == EXISTS:
            acc = False
        elif self.macro == ALL:
            acc = True
        elif self.macro == EXISTS_ONE:
            acc = 0
        else:
            acc = []
        for item in <list>items:
            env.budget -= 1
            if env.budget < 0:
                raise EvaluationError("comprehension step limit exceeded")
            if self.macro == EXISTS:
                condition = DIALECT_CALL("@not_strictly_false", (DIALECT_CALL("!_", (acc,)),))
            elif self.macro == ALL:
                condition = DIALECT_CALL("@not_strictly_false", (acc,))
            else:
                condition = True
            if condition is not True:
                break
            env.slots[self.slot] = item
            if self.macro == EXISTS:
                acc = truthy_logic(True, acc, self.predicate.eval(act, env))
            elif self.macro == ALL:
                acc = truthy_logic(False, acc, self.predicate.eval(act, env))
            elif self.macro == EXISTS_ONE:
                if truthy(self.predicate.eval(act, env)):
                    acc = DIALECT_CALL("_+_", (acc, 1))
            elif self.macro == FILTER:
                if truthy(self.predicate.eval(act, env)):
                    acc = DIALECT_CALL("_+_", (acc, [item]))
            else:
                if self.predicate is not None and not truthy(self.predicate.eval(act, env)):
                    continue
                value = self.transform.eval(act, env)
                acc = DIALECT_CALL("_+_", (acc, value if special(value) else [value]))
        if self.macro == EXISTS_ONE:
            return DIALECT_CALL("_==_", (acc, 1))
        return acc


# ------------------------------------------------------------------ building


cdef class Builder:
    cdef frozenset paths        # the registered paths
    cdef object values          # the lifted literals (None: nothing lifted)
    cdef Py_ssize_t slots
    cdef bint loops

    cdef DNode build(self, object node, dict scope):
        cdef str kind = node[0]
        cdef str function
        if kind == "const":
            return const(node[2] if node[1] != "uint" else UINT(node[2]))
        if kind == "ident":
            return self.ident(node[1], scope)
        if kind == "select":
            return self.select(node, scope)
        if kind == "has":
            return self.has(node, scope)
        if kind == "call":
            return self.call(node, scope)
        if kind == "method":
            return self.method(node, scope)
        if kind == "list":
            return self.list_literal(node, scope)
        if kind == "map":
            return self.map_literal(node, scope)
        if kind == "comprehension":
            return self.comprehension(node, scope)
        if kind == "struct":
            return const(ERROR(NO_OVERLOAD))
        raise AssertionError(kind)

    cdef DNode ident(self, str name, dict scope):
        cdef Local local
        cdef Ident ident
        if name in scope:
            local = Local.__new__(Local)
            local.slot = scope[name]
            return local
        if name == "vars" and self.values is not None:
            return const(TO_CEL(self.values))
        ident = Ident.__new__(Ident)
        ident.name = name
        found = TYPES.get(name)
        ident.missing = found if found is not None else ERROR(
            "no such attribute(s): " + name)
        return ident

    cdef Chain chain(self, tuple path):
        """A chain node for ``path`` (root and at least one field) outside any scope."""
        cdef Chain c = Chain.__new__(Chain)
        cdef Py_ssize_t end
        c.root = path[0]
        c.fields = path[1:]
        c.path = path
        c.prefixes = tuple(end for end in range(1, len(path)) if path[:end + 1] in self.paths)
        c.known = max(c.prefixes) if c.prefixes else 0
        c.bound = c.root == "vars" and self.values is not None
        c.root_value = self.values if c.bound else None
        c.unbound = ERROR("no such attribute(s): " + ".".join(path))
        c.missing_keys = tuple(ERROR("no such key: " + field) for field in c.fields)
        return c

    cdef DNode select(self, tuple node, dict scope):
        cdef Select s
        found = chain_of(node)
        if found is not None and found[0] not in scope:
            if found[0] == "vars" and self.values is not None and len(found[1]) == 1 \
                    and found[1][0] in self.values:
                return const(TO_CEL(self.values[found[1][0]]))  # a lifted literal
            return self.chain((found[0],) + found[1])
        s = Select.__new__(Select)
        s.operand = self.build(node[1], scope)
        s.field = node[2]
        return s

    cdef DNode has(self, tuple node, dict scope):
        cdef Has h = Has.__new__(Has)
        h.operand = self.build(node[1], scope)
        h.field = node[2]
        found = chain_of(node[1])
        h.path = None
        if found is not None and found[0] not in scope:
            h.path = self.chain((found[0],) + found[1] + (node[2],))
        return h

    cdef DNode call(self, tuple node, dict scope):
        cdef str function = node[1]
        cdef tuple args = node[2]
        cdef Logic logic
        cdef Ternary ternary
        cdef IndexConst index
        cdef Compare compare_node
        cdef Not negation
        cdef Call call
        if function == "_&&_" or function == "_||_":
            logic = Logic.__new__(Logic)
            logic.left = self.build(args[0], scope)
            logic.right = self.build(args[1], scope)
            logic.is_or = function == "_||_"
            return logic
        if function == "_?_:_":
            ternary = Ternary.__new__(Ternary)
            ternary.condition = self.build(args[0], scope)
            ternary.then = self.build(args[1], scope)
            ternary.other = self.build(args[2], scope)
            return ternary
        if function == "_[_]" and args[1][0] == "const":
            index = IndexConst.__new__(IndexConst)
            index.operand = self.build(args[0], scope)
            index.key = args[1][2]
            return index
        if function == "!_" and args[0][0] == "call" and args[0][1] == "!_":
            return self.build(args[0][2][0], scope)  # cel-go's parser folds !!x into x
        if function in COMPARISON:
            compare_node = Compare.__new__(Compare)
            compare_node.function = function
            compare_node.op = COMPARISON[function]
            compare_node.left = self.build(args[0], scope)
            compare_node.right = self.build(args[1], scope)
            return compare_node
        if function == "!_":
            negation = Not.__new__(Not)
            negation.operand = self.build(args[0], scope)
            return negation
        if function == "@in":
            found = self.string_list(args[1], scope)
            if found is not None:
                return self.in_strings(args[0], found, scope)
        call = Call.__new__(Call)
        call.function = function
        call.args = tuple(self.build(arg, scope) for arg in args)
        return call

    cdef object string_list(self, tuple node, dict scope):
        """The values of a list literal whose elements are all string constants (written or
        lifted), else None."""
        cdef list values = []
        if node[0] != "list":
            return None
        for element in node[1]:
            built = self.build(element, scope)
            if type(built) is not Const or type((<Const>built).value) is not str:
                return None
            values.append((<Const>built).value)
        return values

    cdef DNode in_strings(self, tuple item, list values, dict scope):
        cdef InStrings node = InStrings.__new__(InStrings)
        node.item = self.build(item, scope)
        node.members = frozenset(values)
        node.container = values
        return node

    cdef DNode method(self, tuple node, dict scope):
        cdef str function = node[1]
        cdef StrMethod string_method
        cdef Method method
        if function in STRING_METHODS and len(node[3]) == 1:
            string_method = StrMethod.__new__(StrMethod)
            string_method.function = function
            string_method.op = STRING_METHODS[function]
            string_method.target = self.build(node[2], scope)
            string_method.arg = self.build(node[3][0], scope)
            return string_method
        method = Method.__new__(Method)
        method.function = function
        method.target = self.build(node[2], scope)
        method.args = tuple(self.build(arg, scope) for arg in node[3])
        return method

    cdef DNode list_literal(self, tuple node, dict scope):
        cdef ListLit lit = ListLit.__new__(ListLit)
        lit.elements = tuple(self.build(element, scope) for element in node[1])
        return lit

    cdef DNode map_literal(self, tuple node, dict scope):
        cdef MapLit lit = MapLit.__new__(MapLit)
        lit.keys = tuple(self.build(entry[0], scope) for entry in node[1])
        lit.values = tuple(self.build(entry[1], scope) for entry in node[1])
        return lit

    cdef DNode comprehension(self, tuple node, dict scope):
        cdef Comprehension c = Comprehension.__new__(Comprehension)
        cdef tuple args = node[4]
        c.macro = MACROS[node[1]]
        c.target = self.build(node[2], scope)
        c.slot = self.slots
        self.slots += 1
        self.loops = True
        inner = dict(scope)
        inner[node[3]] = c.slot
        if c.macro == MAP:
            c.predicate = self.build(args[0], inner) if len(args) == 2 else None
            c.transform = self.build(args[len(args) - 1], inner)
        else:
            c.predicate = self.build(args[0], inner)
        return c


cdef Const const(object value):
    cdef Const c = Const.__new__(Const)
    c.value = value
    return c


# ------------------------------------------------------------------ the kernel


cdef class Kernel:
    """One program's evaluator, built once from the lifted tree: ``raw`` gives the dialect
    value, ``evaluate`` maps it as the server does (``cel.go: eval``), ``matches`` says
    whether it is exactly ``true``.

    >>> from inngest_core import _expr_c
    >>> from inngest_core._expr_dialect import compile_dialect
    >>> compile_dialect("event.data.a || event.data.b", twin=_expr_c).evaluate(
    ...     {"event": {"data": {"a": "", "b": "x"}}})
    'x'
    """
    cdef DNode root
    cdef object values
    cdef Py_ssize_t slots
    cdef bint loops
    cdef Py_ssize_t max_steps

    def __init__(self, tuple ast, values, frozenset paths, Py_ssize_t max_steps):
        cdef Builder builder = Builder.__new__(Builder)
        builder.paths = paths
        builder.values = values
        self.root = builder.build(ast, {})
        self.values = values
        self.slots = builder.slots
        self.loops = builder.loops
        self.max_steps = max_steps

    cdef object run(self, object activation):
        cdef dict act
        cdef Env env = None
        if type(activation) is dict:
            act = <dict>activation
            if not dict_str_keyed(act):
                CHECK_KEYS(act)
        elif issubclass(type(activation), _Mapping):  # the class is asked, not the object
            act = PLAIN_MAPPING(activation)
        else:
            raise TypeError(f"activation must be a mapping, not {type(activation).__name__}")
        cdef bint dotted = has_dotted_key(act)
        if self.loops or dotted:
            env = Env.__new__(Env)
            env.slots = [None] * self.slots
            env.budget = self.max_steps
            env.dotted = dotted
            if dotted:  # only the general reads use it: no copy per evaluation otherwise
                env.act = with_vars(act, self.values) if self.values is not None else act
        try:
            return self.root.eval(act, env)
        except RecursionError:
            raise lib.error("value_too_deep").exception() from None

    def raw(self, activation):
        """The dialect value before ``cel.go: eval`` maps it (may be UNKNOWN, NIL or an
        error value)."""
        return self.run(activation)

    def evaluate(self, activation):
        """The value Inngest's ``expressions.Evaluate`` returns; its errors raise
        ``EvaluationError`` with the server's text."""
        cdef object v = self.run(activation)
        cdef type t = type(v)
        if t is bool or t is str or t is int or t is float or v is None:
            return v
        return RESULT_VALUE(v)

    def matches(self, activation):
        """Is the dialect value exactly ``true``?  (Inngest's pause and trigger matching.)"""
        try:
            return self.run(activation) is True
        except EvaluationError:
            return False
