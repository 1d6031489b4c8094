# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled twin of the CEL parser (the Python twin is ``parse`` in
``inngest_core/_expr_py.py``); the evaluator is ``_expr_c.pyx``, which imports ``parse`` from
here (the two share no C types: the parser's output is the tuples of ``_expr_ast``, read once
per compile, so a split costs nothing per call -- as cel-go keeps its parser and interpreter
apart).

``parse`` returns the tuples of :mod:`inngest_core._expr_ast`.  The lexer reads the str's own
code units (``PyUnicode_READ``) one token at a time, on demand, so errors come out in source
order; Python objects are made only for token values and tree nodes.

The parser is an operator-precedence parser with an explicit stack of pending frames (an
open parenthesis, list, map, message, call, index, ternary, or operator waiting for its right
operand) instead of recursion, so neither 100,000 nested parentheses nor a 250,000-term chain
can touch the C stack, whatever the limits.

Depth is the height of the syntax tree as written: a literal or identifier is 1; an operator
application, call, method call (macros included), selection, index, list, map or message
literal, and a pair of parentheses is one more than its deepest operand.  ``max_depth``
bounds it.  Every pending frame adds at least one to the height of the finished tree, so a
stack of more than ``max_depth`` frames fails at once, before the rest of the source is read.
"""

from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.object cimport PyObject
from cpython.ref cimport Py_INCREF, Py_XDECREF
from cpython.tuple cimport PyTuple_New
from cpython.unicode cimport PyUnicode_GET_LENGTH
from libc.stdint cimport int64_t, uint32_t, uint64_t
from libc.string cimport memcmp

from inngest_core.errors import (
    ExpressionSyntaxError,
    depth_limit_error,
    show,
    source_length_error,
    syntax_error,
)

from inngest_core._expr_ast import BINARY_OPERATORS
from inngest_core._expr_ast import COMPREHENSIONS as _COMPREHENSIONS
from inngest_core._expr_ast import RESERVED as _RESERVED

__all__ = ["parse"]


cdef extern from "Python.h":
    int PyUnicode_KIND(object)
    void* PyUnicode_DATA(object)
    Py_UCS4 PyUnicode_READ(int kind, void* data, Py_ssize_t index) nogil
    object PyUnicode_FromKindAndData(int kind, const void* buffer, Py_ssize_t size)
    int PyUnicode_4BYTE_KIND
    int PyUnicode_1BYTE_KIND
    object PyBytes_FromStringAndSize(const char* v, Py_ssize_t n)
    void PyUnicode_InternInPlace(PyObject** string)
    void tuple_steal "PyTuple_SET_ITEM" (object tuple, Py_ssize_t i, PyObject* item)


# Tokens.
cdef enum:
    T_EOF
    T_INT
    T_UINT
    T_DOUBLE
    T_STRING
    T_BYTES
    T_TRUE
    T_FALSE
    T_NULL
    T_IDENT
    T_QUOTED        # a backtick-quoted field name
    T_LPAREN
    T_RPAREN
    T_LBRACKET
    T_RBRACKET
    T_LBRACE
    T_RBRACE
    T_DOT
    T_COMMA
    T_COLON
    T_QUESTION
    T_NOT
    # Binary operators, in OPERATOR_NAMES order.
    T_OR
    T_AND
    T_EQ
    T_NE
    T_LT
    T_LE
    T_GT
    T_GE
    T_IN
    T_PLUS
    T_MINUS
    T_STAR
    T_SLASH
    T_PERCENT

# The operators' names and precedence levels come from the shared table (_expr_ast), which
# the unparser reads too; the tokens above follow its order.
cdef tuple OPERATOR_NAMES = tuple([name for name, _, _ in BINARY_OPERATORS])
cdef int PRECEDENCE[14]
PRECEDENCE[:] = [level for _, _, level in BINARY_OPERATORS]

# Pending frames.
cdef enum:
    F_BINARY        # op: index into OPERATOR_NAMES; left operand on the value stack
    F_NOT
    F_NEG
    F_PAREN
    F_LIST
    F_MAP           # state: S_KEY or S_VALUE
    F_STRUCT        # state: S_KEY or S_VALUE; type name below base, names and values above
    F_CALL          # function name below base
    F_METHOD        # target and method name below base
    F_INDEX         # target below base
    F_TERNARY       # state: S_THEN (condition below) or S_ELSE (condition, then-value)

cdef enum:
    S_KEY
    S_VALUE
    S_THEN
    S_ELSE

cdef enum:
    RUN_NONE
    RUN_NOT
    RUN_NEG

cdef struct Frame:
    int kind
    int op
    Py_ssize_t pos      # source offset of the token that opened the frame
    Py_ssize_t base     # size of the value stack when the frame opened

cdef uint64_t INT64_MAGNITUDE = 9223372036854775808ULL
cdef uint64_t UINT64_MAX = 18446744073709551615ULL

cdef frozenset RESERVED = _RESERVED
cdef frozenset COMPREHENSIONS = _COMPREHENSIONS

cdef tuple TRUE_NODE = ("const", "bool", True)
cdef tuple FALSE_NODE = ("const", "bool", False)
cdef tuple NULL_NODE = ("const", "null", None)
cdef tuple EMPTY = ()

# Identifier strings are shared across parses; the table is cleared if a stream of distinct
# names ever makes it large.  A name new to the table is made the interpreter's interned str
# (up to INTERN_LIMIT of them, and short ones only: Python 3.12 keeps an interned str for
# good), the object a literal key in Python source is, so a dict lookup by it matches on
# identity instead of comparing characters.
cdef dict NAMES = {}
cdef Py_ssize_t NAMES_LIMIT = 65536
cdef Py_ssize_t INTERNED = 0
cdef Py_ssize_t INTERN_LIMIT = 65536
cdef Py_ssize_t INTERN_LENGTH = 64

# In front of NAMES, a direct-mapped cache of recent identifiers keyed by a hash of their
# code units, so a known name is found without making a str for it (slots own a reference).
cdef enum:
    NAME_SLOTS = 1024
cdef PyObject* NAME_CACHE[NAME_SLOTS]
cdef uint64_t FNV_OFFSET = 14695981039346656037ULL    # FNV-1a, over the code units
cdef uint64_t FNV_PRIME = 1099511628211ULL
cdef Py_ssize_t HASHED_PREFIX = 32        # and the length: a long name costs no more to scan


cdef inline bint is_blank(Py_UCS4 c) noexcept nogil:
    return c == 32 or c == 9 or c == 10 or c == 13 or c == 12


cdef inline bint is_digit(Py_UCS4 c) noexcept nogil:
    return 48 <= c <= 57


cdef inline bint is_letter(Py_UCS4 c) noexcept nogil:
    return (97 <= c <= 122) or (65 <= c <= 90) or c == 95


cdef inline int hex_value(Py_UCS4 c) noexcept nogil:
    if 48 <= c <= 57:
        return <int>c - 48
    if 97 <= c <= 102:
        return <int>c - 87
    if 65 <= c <= 70:
        return <int>c - 55
    return -1


cdef inline bint is_quoted_char(Py_UCS4 c) noexcept nogil:
    return is_letter(c) or is_digit(c) or c == 46 or c == 45 or c == 47 or c == 32


cdef inline Py_ssize_t put_utf8(unsigned char* out, Py_ssize_t k, uint32_t c) noexcept nogil:
    """Write ``c`` as UTF-8 at ``out[k]``; return the new length."""
    if c < 0x80:
        out[k] = <unsigned char>c
        return k + 1
    if c < 0x800:
        out[k] = <unsigned char>(0xC0 | (c >> 6))
        out[k + 1] = <unsigned char>(0x80 | (c & 0x3F))
        return k + 2
    if c < 0x10000:
        out[k] = <unsigned char>(0xE0 | (c >> 12))
        out[k + 1] = <unsigned char>(0x80 | ((c >> 6) & 0x3F))
        out[k + 2] = <unsigned char>(0x80 | (c & 0x3F))
        return k + 3
    out[k] = <unsigned char>(0xF0 | (c >> 18))
    out[k + 1] = <unsigned char>(0x80 | ((c >> 12) & 0x3F))
    out[k + 2] = <unsigned char>(0x80 | ((c >> 6) & 0x3F))
    out[k + 3] = <unsigned char>(0x80 | (c & 0x3F))
    return k + 4


cdef object intern_name(str name):
    global INTERNED
    cdef object known = NAMES.get(name)
    cdef PyObject* made
    if known is not None:
        return known
    if len(NAMES) >= NAMES_LIMIT:
        NAMES.clear()
    if INTERNED < INTERN_LIMIT and PyUnicode_GET_LENGTH(name) <= INTERN_LENGTH:
        made = <PyObject*>name
        Py_INCREF(name)
        PyUnicode_InternInPlace(&made)
        name = <str>made
        Py_XDECREF(made)
        INTERNED += 1
    NAMES[name] = name
    return name


cdef class Parser:
    cdef str source
    cdef int kind
    cdef void* data
    cdef Py_ssize_t n
    cdef Py_ssize_t max_depth
    # The current token.
    cdef int tok
    cdef Py_ssize_t start
    cdef Py_ssize_t end
    cdef uint64_t magnitude     # T_INT / T_UINT: the digits' value
    cdef bint overflow          # ... which did not fit 64 bits
    cdef object value           # T_IDENT / T_QUOTED / T_STRING / T_BYTES
    # The stacks.  The value stack is a C array owning a reference to each of its nvalues
    # nodes (a list would resize as it grows and shrinks), beside their heights.
    cdef PyObject** values
    cdef int* heights
    cdef Py_ssize_t nvalues
    cdef Py_ssize_t heights_size
    cdef Frame* frames
    cdef Py_ssize_t nframes
    cdef Py_ssize_t frames_size
    cdef bint qualified         # the last value is a (dotted) name, so "{" opens a message
    cdef Py_ssize_t frames_pos  # where the call being opened starts (for macro errors)
    # An error found while building an operand (a literal's value, a macro's arguments, a
    # message's type name) waits for the next token, as in an LALR parser, which builds a
    # node only once the token after it may follow it: otherwise that token is the error.
    cdef object pending
    cdef Py_ssize_t pending_at

    def __cinit__(self):
        self.values = NULL
        self.nvalues = 0
        self.heights = NULL
        self.frames = NULL

    def __dealloc__(self):
        cdef Py_ssize_t i
        for i in range(self.nvalues):
            Py_XDECREF(self.values[i])
        PyMem_Free(self.values)
        PyMem_Free(self.heights)
        PyMem_Free(self.frames)

    cdef int init(self, str source, Py_ssize_t max_depth) except -1:
        self.source = source
        self.kind = PyUnicode_KIND(source)
        self.data = PyUnicode_DATA(source)
        self.n = len(source)
        self.max_depth = max_depth
        self.heights_size = 16
        self.values = <PyObject**>PyMem_Malloc(self.heights_size * sizeof(PyObject*))
        self.heights = <int*>PyMem_Malloc(self.heights_size * sizeof(int))
        self.frames_size = 16
        self.frames = <Frame*>PyMem_Malloc(self.frames_size * sizeof(Frame))
        if self.values == NULL or self.heights == NULL or self.frames == NULL:
            raise MemoryError()
        self.nframes = 0
        self.qualified = False
        self.pending = None
        return 0

    # ------------------------------------------------------------------ errors

    cdef inline Py_UCS4 at(self, Py_ssize_t i) noexcept:
        return PyUnicode_READ(self.kind, self.data, i)

    cdef int fail(self, str what, Py_ssize_t offset) except -1:
        raise syntax_error(what, self.source, offset)

    cdef int defer(self, str what, Py_ssize_t offset) except -1:
        if self.pending is None:
            self.pending = what
            self.pending_at = offset
        return 0

    cdef int unexpected(self) except -1:
        if self.tok == T_EOF:
            return self.fail("unexpected end of expression", self.start)
        return self.fail("unexpected " + show(self.source[self.start:self.end]), self.start)

    # ------------------------------------------------------------------ lexer

    cdef int lex(self) except -1:
        """Read the next token into ``tok``, ``start``, ``end`` (and its value)."""
        cdef Py_ssize_t i = self.end
        cdef Py_ssize_t n = self.n
        cdef int kind = self.kind
        cdef void* data = self.data
        cdef const unsigned char* octets = <const unsigned char*>data
        cdef Py_UCS4 c, d
        while i < n:
            if kind == PyUnicode_1BYTE_KIND:  # a run of blanks in a tight loop
                while i < n and is_blank(octets[i]):
                    i += 1
                if i >= n:
                    break
            c = PyUnicode_READ(kind, data, i)
            if is_blank(c):
                i += 1
            elif c == 47 and i + 1 < n and PyUnicode_READ(kind, data, i + 1) == 47:  # //
                i += 2
                while i < n and PyUnicode_READ(kind, data, i) != 10:
                    i += 1
            else:
                break
        self.start = i
        if i >= n:
            self.tok = T_EOF
            self.end = i
            return 0
        c = self.at(i)
        d = self.at(i + 1) if i + 1 < n else 0
        if is_letter(c):
            if d == 34 or d == 39:
                if c == 114 or c == 82:  # r R
                    return self.lex_string(i + 1, True, False)
                if c == 98 or c == 66:  # b B
                    return self.lex_string(i + 1, False, True)
            elif i + 2 < n and (self.at(i + 2) == 34 or self.at(i + 2) == 39):
                if (c == 98 or c == 66) and (d == 114 or d == 82):
                    return self.lex_string(i + 2, True, True)
                if (c == 114 or c == 82) and (d == 98 or d == 66):
                    return self.lex_string(i + 2, True, True)
            return self.lex_word(i)
        if is_digit(c) or (c == 46 and is_digit(d)):
            return self.lex_number(i)
        if c == 34 or c == 39:
            return self.lex_string(i, False, False)
        self.end = i + 1
        if c == 40: self.tok = T_LPAREN
        elif c == 41: self.tok = T_RPAREN
        elif c == 91: self.tok = T_LBRACKET
        elif c == 93: self.tok = T_RBRACKET
        elif c == 123: self.tok = T_LBRACE
        elif c == 125: self.tok = T_RBRACE
        elif c == 46: self.tok = T_DOT
        elif c == 44: self.tok = T_COMMA
        elif c == 58: self.tok = T_COLON
        elif c == 63: self.tok = T_QUESTION
        elif c == 43: self.tok = T_PLUS
        elif c == 45: self.tok = T_MINUS
        elif c == 42: self.tok = T_STAR
        elif c == 47: self.tok = T_SLASH
        elif c == 37: self.tok = T_PERCENT
        elif c == 33:
            if d == 61:
                self.tok = T_NE
                self.end = i + 2
            else:
                self.tok = T_NOT
        elif c == 60:
            if d == 61:
                self.tok = T_LE
                self.end = i + 2
            else:
                self.tok = T_LT
        elif c == 62:
            if d == 61:
                self.tok = T_GE
                self.end = i + 2
            else:
                self.tok = T_GT
        elif c == 61 and d == 61:
            self.tok = T_EQ
            self.end = i + 2
        elif c == 38 and d == 38:
            self.tok = T_AND
            self.end = i + 2
        elif c == 124 and d == 124:
            self.tok = T_OR
            self.end = i + 2
        elif c == 96:
            return self.lex_quoted(i)
        else:
            return self.fail("unexpected character " + show(self.source[i:i + 1]), i)
        return 0

    cdef int lex_word(self, Py_ssize_t i) except -1:
        cdef Py_ssize_t j = i + 1
        cdef Py_ssize_t n = self.n
        cdef Py_UCS4 c = self.at(i)
        cdef uint64_t h = (FNV_OFFSET ^ <uint64_t>c) * FNV_PRIME
        cdef Py_ssize_t hashed_end = min(n, i + HASHED_PREFIX)
        while j < hashed_end:
            c = self.at(j)
            if not (is_letter(c) or is_digit(c)):
                break
            h = (h ^ <uint64_t>c) * FNV_PRIME
            j += 1
        else:
            while j < n:
                c = self.at(j)
                if not (is_letter(c) or is_digit(c)):
                    break
                j += 1
        h = (h ^ <uint64_t>(j - i)) * FNV_PRIME
        self.end = j
        c = self.at(i)
        if j - i == 2 and c == 105 and self.at(i + 1) == 110:
            self.tok = T_IN
            return 0
        if j - i == 4 and c == 116 and self.at(i + 1) == 114 and self.at(i + 2) == 117 \
                and self.at(i + 3) == 101:
            self.tok = T_TRUE
            return 0
        if j - i == 4 and c == 110 and self.at(i + 1) == 117 and self.at(i + 2) == 108 \
                and self.at(i + 3) == 108:
            self.tok = T_NULL
            return 0
        if j - i == 5 and c == 102 and self.at(i + 1) == 97 and self.at(i + 2) == 108 \
                and self.at(i + 3) == 115 and self.at(i + 4) == 101:
            self.tok = T_FALSE
            return 0
        self.tok = T_IDENT
        self.value = self.name(i, j, <Py_ssize_t>((h ^ (h >> 29)) & (NAME_SLOTS - 1)))
        return 0

    cdef object name(self, Py_ssize_t i, Py_ssize_t j, Py_ssize_t slot):
        """The shared str of the identifier ``source[i:j]``, whose cache slot is ``slot``."""
        cdef PyObject* cached = NAME_CACHE[slot]
        cdef Py_ssize_t k
        cdef int kind
        cdef void* data
        if cached is not NULL and PyUnicode_GET_LENGTH(<object>cached) == j - i:
            kind = PyUnicode_KIND(<object>cached)
            data = PyUnicode_DATA(<object>cached)
            if kind == self.kind:
                if memcmp(data, <char*>self.data + i * kind, (j - i) * kind) == 0:
                    return <object>cached
            else:
                k = 0
                while k < j - i and PyUnicode_READ(kind, data, k) == self.at(i + k):
                    k += 1
                if k == j - i:
                    return <object>cached
        found = intern_name(self.source[i:j])
        Py_INCREF(found)
        NAME_CACHE[slot] = <PyObject*>found
        Py_XDECREF(cached)
        return found

    cdef int lex_quoted(self, Py_ssize_t i) except -1:
        cdef Py_ssize_t j = i + 1
        cdef Py_ssize_t n = self.n
        while j < n and is_quoted_char(self.at(j)):
            j += 1
        if j == i + 1 or j >= n or self.at(j) != 96:
            return self.fail("unexpected character " + show("`"), i)
        self.tok = T_QUOTED
        self.end = j + 1
        self.value = intern_name(self.source[i + 1:j])
        return 0

    cdef int lex_number(self, Py_ssize_t i) except -1:
        cdef Py_ssize_t n = self.n
        cdef Py_ssize_t j = i
        cdef uint64_t v = 0
        cdef uint64_t digit
        cdef bint overflow = False
        cdef bint is_float = False
        cdef Py_UCS4 c
        if self.at(i) == 48 and i + 2 < n and self.at(i + 1) == 120 and hex_value(self.at(i + 2)) >= 0:
            j = i + 2
            while j < n and hex_value(self.at(j)) >= 0:
                digit = <uint64_t>hex_value(self.at(j))
                if v > (UINT64_MAX - digit) // 16:
                    overflow = True
                else:
                    v = v * 16 + digit
                j += 1
        else:
            while j < n and is_digit(self.at(j)):
                digit = <uint64_t>self.at(j) - 48
                if v > (UINT64_MAX - digit) // 10:
                    overflow = True
                else:
                    v = v * 10 + digit
                j += 1
            if j + 1 < n and self.at(j) == 46 and is_digit(self.at(j + 1)):
                is_float = True
                j += 1
                while j < n and is_digit(self.at(j)):
                    j += 1
            if j < n and (self.at(j) == 101 or self.at(j) == 69):  # e E
                c = self.at(j + 1) if j + 1 < n else 0
                if is_digit(c):
                    is_float = True
                    j += 1
                elif (c == 43 or c == 45) and j + 2 < n and is_digit(self.at(j + 2)):
                    is_float = True
                    j += 2
                if is_float:
                    while j < n and is_digit(self.at(j)):
                        j += 1
            if is_float:
                self.tok = T_DOUBLE
                self.end = j
                return 0
        self.magnitude = v
        self.overflow = overflow
        if j < n and (self.at(j) == 117 or self.at(j) == 85):  # u U
            self.tok = T_UINT
            self.end = j + 1
        else:
            self.tok = T_INT
            self.end = j
        return 0

    cdef int lex_string(self, Py_ssize_t q, bint raw, bint is_bytes) except -1:
        """A string or bytes literal whose opening quote is at ``q``."""
        cdef Py_ssize_t n = self.n
        cdef Py_UCS4 quote = self.at(q)
        cdef bint triple = q + 2 < n and self.at(q + 1) == quote and self.at(q + 2) == quote
        cdef Py_ssize_t body = q + 3 if triple else q + 1
        cdef Py_ssize_t j = body
        cdef Py_ssize_t body_end
        cdef bint escapes = False
        cdef Py_UCS4 c
        while True:
            if j >= n:
                return self.fail("unterminated string literal", q)
            c = self.at(j)
            if c == quote:
                if not triple:
                    body_end = j
                    self.end = j + 1
                    break
                if j + 2 < n and self.at(j + 1) == quote and self.at(j + 2) == quote:
                    body_end = j
                    self.end = j + 3
                    break
            elif (c == 10 or c == 13) and not triple:
                return self.fail("unterminated string literal", q)
            elif c == 92 and not raw:
                escapes = True
                j += 1
            j += 1
        if is_bytes:
            self.tok = T_BYTES
            if escapes:
                self.value = self.decode(body, body_end, True)
            else:
                self.value = self.source[body:body_end].encode("utf-8", "surrogatepass")
        else:
            self.tok = T_STRING
            if escapes:
                self.value = self.decode(body, body_end, False)
            else:
                self.value = self.source[body:body_end]
        return 0

    cdef object decode(self, Py_ssize_t i, Py_ssize_t end, bint is_bytes):
        """The value of a literal's body with escapes: a str, or bytes (UTF-8 of the text,
        with ``\\x`` and octal escapes as raw octets)."""
        cdef Py_ssize_t size = (end - i) * (4 if is_bytes else sizeof(Py_UCS4))
        cdef void* buffer = PyMem_Malloc(size if size > 0 else 1)
        cdef Py_UCS4* chars = <Py_UCS4*>buffer
        cdef unsigned char* octets = <unsigned char*>buffer
        cdef Py_ssize_t k = 0
        cdef Py_ssize_t escape_at
        cdef uint32_t c
        cdef uint32_t v = 0
        cdef int digits, h
        if buffer == NULL:
            raise MemoryError()
        try:
            while i < end:
                c = self.at(i)
                if c != 92:
                    if is_bytes:
                        k = put_utf8(octets, k, c)
                    else:
                        chars[k] = <Py_UCS4>c
                        k += 1
                    i += 1
                    continue
                escape_at = i
                c = self.at(i + 1)
                i += 2
                digits = 0
                if c == 97: v = 7
                elif c == 98: v = 8
                elif c == 102: v = 12
                elif c == 110: v = 10
                elif c == 114: v = 13
                elif c == 116: v = 9
                elif c == 118: v = 11
                elif c == 92 or c == 39 or c == 34 or c == 96 or c == 63: v = c
                elif c == 120 or c == 88: digits = 2
                elif c == 117 and not is_bytes: digits = 4
                elif c == 85 and not is_bytes: digits = 8
                elif 48 <= c <= 51:
                    if (i + 1 < end and 48 <= self.at(i) <= 55 and 48 <= self.at(i + 1) <= 55):
                        v = ((c - 48) << 6) | ((<uint32_t>self.at(i) - 48) << 3) | (<uint32_t>self.at(i + 1) - 48)
                        i += 2
                    else:
                        return self.bad_escape(escape_at, end)
                else:
                    return self.bad_escape(escape_at, end)
                if digits:
                    v = 0
                    while digits:
                        h = hex_value(self.at(i)) if i < end else -1
                        if h < 0:
                            return self.bad_escape(escape_at, end)
                        v = v * 16 + <uint32_t>h
                        i += 1
                        digits -= 1
                    if v > 0x10FFFF or 0xD800 <= v <= 0xDFFF:
                        self.defer("invalid code point in escape sequence "
                                   + show(self.source[escape_at:i]), escape_at)
                        return b"" if is_bytes else ""
                if is_bytes:
                    if c == 120 or c == 88 or 48 <= c <= 51:
                        octets[k] = <unsigned char>v
                        k += 1
                    else:
                        k = put_utf8(octets, k, v)
                else:
                    chars[k] = <Py_UCS4>v
                    k += 1
            if is_bytes:
                return PyBytes_FromStringAndSize(<char*>octets, k)
            return PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, chars, k)
        finally:
            PyMem_Free(buffer)

    cdef object bad_escape(self, Py_ssize_t at, Py_ssize_t end):
        """Defer the error; the literal's value is a stand-in."""
        self.defer("invalid escape sequence " + show(self.source[at:min(at + 2, end)]), at)
        return None

    # ------------------------------------------------------------------ stacks

    cdef int push(self, object node, int height) except -1:
        cdef Py_ssize_t size = self.nvalues
        cdef int* grown
        cdef PyObject** more
        if height > self.max_depth:
            raise depth_limit_error(self.max_depth)
        if size >= self.heights_size:
            more = <PyObject**>PyMem_Realloc(self.values,
                                             2 * self.heights_size * sizeof(PyObject*))
            if more == NULL:
                raise MemoryError()
            self.values = more
            grown = <int*>PyMem_Realloc(self.heights, 2 * self.heights_size * sizeof(int))
            if grown == NULL:
                raise MemoryError()
            self.heights = grown
            self.heights_size *= 2
        Py_INCREF(node)
        self.values[size] = <PyObject*>node
        self.heights[size] = height
        self.nvalues = size + 1
        return 0

    cdef inline object pop(self):
        """The value on top, taken off the stack."""
        self.nvalues -= 1
        cdef object node = <object>self.values[self.nvalues]
        Py_XDECREF(self.values[self.nvalues])
        return node

    cdef tuple take(self, Py_ssize_t base):
        """The values from ``base`` up, taken off the stack as a tuple."""
        cdef Py_ssize_t i
        cdef tuple items = PyTuple_New(self.nvalues - base)
        for i in range(base, self.nvalues):
            tuple_steal(items, i - base, self.values[i])
        self.nvalues = base
        return items

    cdef int open(self, int kind, int op, Py_ssize_t pos) except -1:
        cdef Frame* grown
        if self.nframes >= self.max_depth:
            raise depth_limit_error(self.max_depth)
        if self.nframes >= self.frames_size:
            grown = <Frame*>PyMem_Realloc(self.frames, 2 * self.frames_size * sizeof(Frame))
            if grown == NULL:
                raise MemoryError()
            self.frames = grown
            self.frames_size *= 2
        self.frames[self.nframes].kind = kind
        self.frames[self.nframes].op = op
        self.frames[self.nframes].pos = pos
        self.frames[self.nframes].base = self.nvalues
        self.nframes += 1
        return 0

    cdef inline int top(self) noexcept:
        return self.frames[self.nframes - 1].kind if self.nframes else -1

    cdef int highest(self, Py_ssize_t first) noexcept:
        """The greatest height among values[first:]."""
        cdef int h = 0
        cdef Py_ssize_t i
        for i in range(first, self.nvalues):
            if self.heights[i] > h:
                h = self.heights[i]
        return h

    cdef int reduce_one(self) except -1:
        """Finish the operator or ternary frame on top."""
        cdef Frame* f = &self.frames[self.nframes - 1]
        cdef Py_ssize_t size = self.nvalues
        cdef int h
        if f.kind == F_BINARY:
            h = 1 + max(self.heights[size - 2], self.heights[size - 1])
            node = ("call", OPERATOR_NAMES[f.op], self.take(size - 2))
        elif f.kind == F_NOT or f.kind == F_NEG:
            h = 1 + self.heights[size - 1]
            node = ("call", "!_" if f.kind == F_NOT else "-_", self.take(size - 1))
        else:  # F_TERNARY in S_ELSE
            h = 1 + max(self.heights[size - 3], self.heights[size - 2], self.heights[size - 1])
            node = ("call", "_?_:_", self.take(size - 3))
        self.nframes -= 1
        self.qualified = False
        return self.push(node, h)

    cdef int reduce_operators(self, int precedence) except -1:
        """Finish unary operators and binary ones binding at least as tightly as
        ``precedence`` (all binary operators are left-associative)."""
        cdef Frame* f
        while self.nframes:
            f = &self.frames[self.nframes - 1]
            if f.kind == F_NOT or f.kind == F_NEG or (
                    f.kind == F_BINARY and PRECEDENCE[f.op] >= precedence):
                self.reduce_one()
            else:
                break
        return 0

    cdef int reduce_expression(self) except -1:
        """Finish every frame of the current expression, down to its enclosing bracket."""
        cdef int kind
        while self.nframes:
            kind = self.frames[self.nframes - 1].kind
            if kind == F_BINARY or kind == F_NOT or kind == F_NEG or (
                    kind == F_TERNARY and self.frames[self.nframes - 1].op == S_ELSE):
                self.reduce_one()
            else:
                break
        return 0

    # ------------------------------------------------------------------ parser

    cdef object run(self):
        cdef bint operand = True       # does the grammar want an operand next?
        cdef int run_kind = RUN_NONE   # prefix operators seen since the last operand
        cdef int tok
        cdef Py_ssize_t minus_at
        cdef Frame* f
        self.end = 0
        self.lex()
        while True:
            tok = self.tok
            if operand:
                if tok == T_IDENT or tok == T_DOT:
                    self.primary_name()
                    operand = self.tok == T_LPAREN and self.open_call()
                    run_kind = RUN_NONE
                    continue
                if tok == T_MINUS:
                    minus_at = self.start
                    if run_kind == RUN_NOT:
                        # Only a literal's sign may follow "!": any failure here is the "-".
                        try:
                            self.lex()
                        except ExpressionSyntaxError:
                            return self.fail('unexpected "-"', minus_at)
                    else:
                        self.lex()
                    if self.tok == T_INT or self.tok == T_DOUBLE:
                        self.literal(True)
                        operand = False
                        run_kind = RUN_NONE
                        continue
                    if run_kind == RUN_NOT:  # "!" and "-" chains do not mix
                        return self.fail('unexpected "-"', minus_at)
                    self.open(F_NEG, 0, minus_at)
                    run_kind = RUN_NEG
                    continue
                if tok == T_NOT:
                    if run_kind == RUN_NEG:
                        return self.unexpected()
                    self.open(F_NOT, 0, self.start)
                    run_kind = RUN_NOT
                    self.lex()
                    continue
                run_kind = RUN_NONE
                if T_INT <= tok <= T_NULL:
                    self.literal(False)
                    operand = False
                    continue
                if tok == T_LPAREN:
                    self.open(F_PAREN, 0, self.start)
                    self.lex()
                    continue
                if tok == T_LBRACKET:
                    self.open(F_LIST, 0, self.start)
                    self.lex()
                    continue
                if tok == T_LBRACE:
                    self.open(F_MAP, S_KEY, self.start)
                    self.lex()
                    continue
                # An empty bracket, or a list or map closed after a trailing comma.
                if self.nframes:
                    f = &self.frames[self.nframes - 1]
                    if ((tok == T_RBRACKET and f.kind == F_LIST)
                            or (tok == T_RBRACE and f.kind == F_MAP and f.op == S_KEY)
                            or (tok == T_RPAREN and (f.kind == F_CALL or f.kind == F_METHOD)
                                and f.base == self.nvalues)):
                        self.close()
                        operand = False
                        continue
                return self.unexpected()
            # An operand is complete: postfix operators, then infix ones.  A message literal's
            # brace must follow a dotted name, checked at once (as the Python twin's lexer does).
            if tok == T_LBRACE and not self.qualified:
                return self.unexpected()
            if self.pending is not None:
                if (tok == T_DOT or tok == T_LBRACKET or tok == T_LBRACE or tok == T_QUESTION
                        or tok == T_COLON or tok == T_COMMA or tok == T_RPAREN
                        or tok == T_RBRACKET or tok == T_RBRACE or tok == T_EOF
                        or T_OR <= tok <= T_PERCENT):
                    return self.fail(self.pending, self.pending_at)
                return self.unexpected()
            if tok == T_DOT:
                self.lex()
                if self.tok == T_IDENT:
                    self.member()
                    operand = self.tok == T_LPAREN and self.open_method()
                elif self.tok == T_QUOTED:
                    self.select(False)
                else:
                    return self.unexpected()
            elif tok == T_LBRACKET:
                self.qualified = False
                self.open(F_INDEX, 0, self.start)
                self.lex()
                operand = True
            elif tok == T_LBRACE:
                operand = self.open_struct()
            elif T_OR <= tok <= T_PERCENT:
                self.reduce_operators(PRECEDENCE[tok - T_OR])
                self.open(F_BINARY, tok - T_OR, self.start)
                self.lex()
                operand = True
            elif tok == T_QUESTION:
                self.reduce_operators(0)
                if self.top() == F_TERNARY and self.frames[self.nframes - 1].op == S_THEN:
                    return self.unexpected()
                self.open(F_TERNARY, S_THEN, self.start)
                self.lex()
                operand = True
            elif tok == T_COLON:
                self.reduce_operators(0)
                f = &self.frames[self.nframes - 1] if self.nframes else NULL
                if f != NULL and f.kind == F_TERNARY and f.op == S_THEN:
                    f.op = S_ELSE
                else:
                    self.reduce_expression()
                    f = &self.frames[self.nframes - 1] if self.nframes else NULL
                    if f == NULL or f.kind != F_MAP or f.op != S_KEY:
                        return self.unexpected()
                    f.op = S_VALUE
                self.lex()
                operand = True
            elif tok == T_COMMA:
                self.reduce_expression()
                f = &self.frames[self.nframes - 1] if self.nframes else NULL
                if f == NULL:
                    return self.unexpected()
                if f.kind == F_LIST or f.kind == F_CALL or f.kind == F_METHOD:
                    self.lex()
                    operand = True
                elif f.kind == F_MAP and f.op == S_VALUE:
                    f.op = S_KEY
                    self.lex()
                    operand = True
                elif f.kind == F_STRUCT and f.op == S_VALUE:
                    f.op = S_KEY
                    self.lex()
                    operand = self.struct_field()
                else:
                    return self.unexpected()
            elif tok == T_RPAREN or tok == T_RBRACKET or tok == T_RBRACE:
                self.reduce_expression()
                if not self.nframes:
                    return self.unexpected()
                f = &self.frames[self.nframes - 1]
                if tok == T_RPAREN and (
                        f.kind == F_PAREN or f.kind == F_CALL or f.kind == F_METHOD):
                    self.close()
                elif tok == T_RBRACKET and (f.kind == F_LIST or f.kind == F_INDEX):
                    self.close()
                elif tok == T_RBRACE and (
                        (f.kind == F_MAP or f.kind == F_STRUCT) and f.op == S_VALUE):
                    self.close()
                else:
                    return self.unexpected()
            elif tok == T_EOF:
                self.reduce_expression()
                if self.nframes:
                    return self.unexpected()
                return <object>self.values[0]
            else:
                return self.unexpected()

    cdef int primary_name(self) except -1:
        """An identifier (or ``.identifier``) in operand position; the token after it is read."""
        cdef object name
        cdef Py_ssize_t at = self.start
        if self.tok == T_DOT:
            self.lex()
            if self.tok != T_IDENT:
                return self.unexpected()
            name = self.value
            self.check_reserved(name)
            name = intern_name("." + name)
        else:
            name = self.value
            self.check_reserved(name)
        self.lex()
        if self.tok == T_LPAREN:
            self.push(name, 0)
            self.frames_pos = at
        else:
            self.push(("ident", name), 1)
            self.qualified = True
        return 0

    cdef int check_reserved(self, object name) except -1:
        if name in RESERVED:
            return self.fail("reserved identifier " + show(name), self.start)
        return 0

    cdef bint open_call(self) except -1:
        """After ``name(``: open the call frame; True (an operand is wanted)."""
        self.open(F_CALL, 0, self.frames_pos)
        self.lex()
        return True

    cdef int member(self) except -1:
        """``.name`` after an operand: remember the name's position, read the next token."""
        self.frames_pos = self.start
        name = self.value
        self.lex()
        if self.tok == T_LPAREN:
            self.push(name, 0)
        else:
            self.select_name(name, True)
        return 0

    cdef int select(self, bint plain) except -1:
        name = self.value
        self.lex()
        return self.select_name(name, plain)

    cdef int select_name(self, object name, bint plain) except -1:
        cdef int h = self.heights[self.nvalues - 1] + 1
        cdef bint qualified = self.qualified and plain
        operand = self.pop()
        self.push(("select", operand, name), h)
        self.qualified = qualified
        return 0

    cdef bint open_method(self) except -1:
        self.qualified = False
        self.open(F_METHOD, 0, self.frames_pos)
        self.lex()
        return True

    cdef bint open_struct(self) except -1:
        """``Name{``: the dotted name on top of the value stack becomes the type name."""
        cdef object node = self.pop()
        cdef list parts = []
        while node[0] == "select":
            parts.append(node[2])
            node = node[1]
        parts.append(node[1])
        parts.reverse()
        self.push(".".join(parts), 0)
        self.qualified = False
        self.open(F_STRUCT, S_KEY, self.start)
        self.lex()
        return self.struct_field()

    cdef bint struct_field(self) except -1:
        """In a message literal after ``{`` or ``,``: ``name :``, then True (the value is
        wanted); or ``}``, then False."""
        if self.tok == T_RBRACE:
            self.close()
            return False
        if self.tok != T_IDENT and self.tok != T_QUOTED:
            return self.unexpected()
        self.push(self.value, 0)
        self.lex()
        if self.tok != T_COLON:
            return self.unexpected()
        self.frames[self.nframes - 1].op = S_VALUE
        self.lex()
        return True

    cdef int literal(self, bint negative) except -1:
        """The literal token (after a folded ``-`` when ``negative``); reads the next token."""
        cdef int tok = self.tok
        cdef uint64_t m
        cdef object node
        if tok == T_INT:
            m = self.magnitude
            if self.overflow or m > (INT64_MAGNITUDE if negative else INT64_MAGNITUDE - 1):
                self.defer("int literal out of range", self.start)
            node = ("const", "int", <int64_t>(0 - m) if negative else <int64_t>m)
        elif tok == T_UINT:
            if self.overflow:
                self.defer("uint literal out of range", self.start)
            node = ("const", "uint", self.magnitude)
        elif tok == T_DOUBLE:
            value = float(self.source[self.start:self.end])
            node = ("const", "double", -value if negative else value)
        elif tok == T_STRING:
            node = ("const", "string", self.value)
        elif tok == T_BYTES:
            node = ("const", "bytes", self.value)
        elif tok == T_TRUE:
            node = TRUE_NODE
        elif tok == T_FALSE:
            node = FALSE_NODE
        else:
            node = NULL_NODE
        self.qualified = False
        self.push(node, 1)
        return self.lex()

    cdef int close(self) except -1:
        """Close the bracket frame on top (the closing token is current); read the next token."""
        cdef Frame* f = &self.frames[self.nframes - 1]
        cdef int kind = f.kind
        cdef Py_ssize_t base = f.base
        cdef Py_ssize_t pos = f.pos
        cdef Py_ssize_t size = self.nvalues
        cdef int h = 1 + self.highest(base)
        cdef Py_ssize_t i
        cdef object node
        cdef tuple items
        self.nframes -= 1
        if kind == F_PAREN:
            self.heights[size - 1] += 1
            if self.heights[size - 1] > self.max_depth:
                raise depth_limit_error(self.max_depth)
            self.qualified = False
            return self.lex()
        items = self.take(base)
        if kind == F_LIST:
            node = ("list", items)
        elif kind == F_INDEX:
            h = 1 + max(h - 1, self.heights[base - 1])
            node = ("call", "_[_]", (self.pop(), items[0]))
        elif kind == F_MAP or kind == F_STRUCT:
            node = tuple([(items[i], items[i + 1]) for i in range(0, len(items), 2)])
            if kind == F_MAP:
                node = ("map", node)
            else:
                node = ("struct", self.pop(), node)
        elif kind == F_CALL:
            name = self.pop()
            if name == "has" and len(items) == 1:
                if items[0][0] != "select":
                    self.defer("invalid argument to has() macro", pos)
                    node = ("has", items[0], "")
                else:
                    node = ("has", items[0][1], items[0][2])
            else:
                node = ("call", name, items)
        else:  # F_METHOD
            name = self.pop()
            h = 1 + max(h - 1, self.heights[base - 2])
            target = self.pop()
            node = self.method(name, target, items, pos)
        self.qualified = False
        self.push(node, h)
        return self.lex()

    cdef object method(self, object name, object target, tuple args, Py_ssize_t pos):
        cdef Py_ssize_t count = len(args)
        if (count == 2 and name in COMPREHENSIONS) or (
                (count == 2 or count == 3) and name == "map"):
            if args[0][0] != "ident":
                self.defer(f"the first argument of {name}() must be a simple name", pos)
            return ("comprehension", name, target, args[0][1], args[1:])
        return ("method", name, target, args)


def parse(source, *, max_source_length=100_000, max_depth=250):
    """Parse CEL ``source`` into the tuples of :mod:`inngest_core._expr_ast`.

    >>> parse("event.data.id == 1")
    ('call', '_==_', (('select', ('select', ('ident', 'event'), 'data'), 'id'), ('const', 'int', 1)))
    """
    if not isinstance(source, str):
        raise TypeError(f"expression source must be str, not {type(source).__name__}")
    cdef Py_ssize_t length = len(<str>source)
    if length > max_source_length:
        raise source_length_error(length, max_source_length)
    cdef Parser parser = Parser.__new__(Parser)
    parser.init(source, max_depth)
    return parser.run()
