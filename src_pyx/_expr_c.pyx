# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled twin of the CEL parser and evaluator (the Python twin is
``inngest_core/_expr_py.py``); the evaluator is described where it starts, below the parser.

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
from libc.stdint cimport int64_t, uint32_t, uint64_t

from inngest_core.errors import (
    ExpressionSyntaxError,
    depth_limit_error,
    show,
    source_length_error,
    syntax_error,
)

__all__ = ["parse", "Program", "compile_program"]


cdef extern from "Python.h":
    int PyUnicode_KIND(object)
    void* PyUnicode_DATA(object)
    Py_UCS4 PyUnicode_READ(int kind, void* data, Py_ssize_t index) nogil
    object PyUnicode_FromKindAndData(int kind, const void* buffer, Py_ssize_t size)
    int PyUnicode_4BYTE_KIND
    object PyBytes_FromStringAndSize(const char* v, Py_ssize_t n)


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

cdef tuple OPERATOR_NAMES = (
    "_||_", "_&&_", "_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_", "@in",
    "_+_", "_-_", "_*_", "_/_", "_%_",
)
cdef int PRECEDENCE[14]
PRECEDENCE[:] = [1, 2, 3, 3, 3, 3, 3, 3, 3, 4, 4, 5, 5, 5]

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

cdef frozenset RESERVED = frozenset({
    "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let",
    "loop", "package", "namespace", "return", "var", "void", "while",
})
cdef frozenset COMPREHENSIONS = frozenset({"all", "exists", "exists_one", "filter"})

cdef tuple TRUE_NODE = ("const", "bool", True)
cdef tuple FALSE_NODE = ("const", "bool", False)
cdef tuple NULL_NODE = ("const", "null", None)
cdef tuple EMPTY = ()

# Identifier strings are shared across parses; the table is cleared if a stream of distinct
# names ever makes it large.
cdef dict NAMES = {}
cdef Py_ssize_t NAMES_LIMIT = 65536


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
    cdef object known = NAMES.get(name)
    if known is not None:
        return known
    if len(NAMES) >= NAMES_LIMIT:
        NAMES.clear()
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
    # The stacks.
    cdef list values
    cdef int* heights
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
        self.heights = NULL
        self.frames = NULL

    def __dealloc__(self):
        PyMem_Free(self.heights)
        PyMem_Free(self.frames)

    cdef int init(self, str source, Py_ssize_t max_depth) except -1:
        self.source = source
        self.kind = PyUnicode_KIND(source)
        self.data = PyUnicode_DATA(source)
        self.n = len(source)
        self.max_depth = max_depth
        self.values = []
        self.heights_size = 16
        self.heights = <int*>PyMem_Malloc(self.heights_size * sizeof(int))
        self.frames_size = 16
        self.frames = <Frame*>PyMem_Malloc(self.frames_size * sizeof(Frame))
        if self.heights == NULL or self.frames == NULL:
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
        cdef Py_UCS4 c, d
        while i < n:
            c = self.at(i)
            if c == 32 or c == 9 or c == 10 or c == 13 or c == 12:
                i += 1
            elif c == 47 and i + 1 < n and self.at(i + 1) == 47:  # //
                i += 2
                while i < n and self.at(i) != 10:
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
        cdef Py_UCS4 c
        while j < n:
            c = self.at(j)
            if not (is_letter(c) or is_digit(c)):
                break
            j += 1
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
        self.value = intern_name(self.source[i:j])
        return 0

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
        cdef Py_ssize_t size = len(self.values)
        cdef int* grown
        if height > self.max_depth:
            raise depth_limit_error(self.max_depth)
        if size >= self.heights_size:
            grown = <int*>PyMem_Realloc(self.heights, 2 * self.heights_size * sizeof(int))
            if grown == NULL:
                raise MemoryError()
            self.heights = grown
            self.heights_size *= 2
        self.values.append(node)
        self.heights[size] = height
        return 0

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
        self.frames[self.nframes].base = len(self.values)
        self.nframes += 1
        return 0

    cdef inline int top(self) noexcept:
        return self.frames[self.nframes - 1].kind if self.nframes else -1

    cdef int highest(self, Py_ssize_t first) noexcept:
        """The greatest height among values[first:]."""
        cdef int h = 0
        cdef Py_ssize_t i
        for i in range(first, len(self.values)):
            if self.heights[i] > h:
                h = self.heights[i]
        return h

    cdef int reduce_one(self) except -1:
        """Finish the operator or ternary frame on top."""
        cdef Frame* f = &self.frames[self.nframes - 1]
        cdef list values = self.values
        cdef Py_ssize_t size = len(values)
        cdef int h
        cdef object a, b, c
        if f.kind == F_BINARY:
            h = 1 + max(self.heights[size - 2], self.heights[size - 1])
            b = values.pop()
            a = values.pop()
            node = ("call", OPERATOR_NAMES[f.op], (a, b))
        elif f.kind == F_NOT or f.kind == F_NEG:
            h = 1 + self.heights[size - 1]
            a = values.pop()
            node = ("call", "!_" if f.kind == F_NOT else "-_", (a,))
        else:  # F_TERNARY in S_ELSE
            h = 1 + max(self.heights[size - 3], self.heights[size - 2], self.heights[size - 1])
            c = values.pop()
            b = values.pop()
            a = values.pop()
            node = ("call", "_?_:_", (a, b, c))
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
                                and f.base == len(self.values))):
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
                return self.values[0]
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
        cdef list values = self.values
        cdef Py_ssize_t last = len(values) - 1
        cdef int h = self.heights[last] + 1
        cdef bint qualified = self.qualified and plain
        operand = values.pop()
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
        cdef object node = self.values.pop()
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
        cdef list values = self.values
        cdef Py_ssize_t size = len(values)
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
        items = tuple(values[base:])
        del values[base:]
        if kind == F_LIST:
            node = ("list", items)
        elif kind == F_INDEX:
            h = 1 + max(h - 1, self.heights[base - 1])
            node = ("call", "_[_]", (values.pop(), items[0]))
        elif kind == F_MAP or kind == F_STRUCT:
            node = tuple([(items[i], items[i + 1]) for i in range(0, len(items), 2)])
            if kind == F_MAP:
                node = ("map", node)
            else:
                node = ("struct", values.pop(), node)
        elif kind == F_CALL:
            name = values.pop()
            if name == "has" and len(items) == 1:
                if items[0][0] != "select":
                    self.defer("invalid argument to has() macro", pos)
                    node = ("has", items[0], "")
                else:
                    node = ("has", items[0][1], items[0][2])
            else:
                node = ("call", name, items)
        else:  # F_METHOD
            name = values.pop()
            h = 1 + max(h - 1, self.heights[base - 2])
            target = values.pop()
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



# =============================================================================== evaluator
#
# The AST is compiled once into a tree of ``Node`` objects whose ``eval`` is a C virtual call.
# Values are those of the shared runtime, ``inngest_core._expr_lib`` (lists and maps stay the
# Python containers they were given, their elements converted when read).  An evaluation error
# is a value (the runtime's ``CelError``), so ``&&``/``||`` and the macros can absorb it.
# Native code answers only what is certain (two strs, two ints whose result fits, a dict
# lookup that hits, ...); every other case -- and every error message -- comes from the
# runtime's function table, so the twins cannot drift apart.

from cpython.object cimport PyObject
from cpython.dict cimport PyDict_GetItemWithError, PyDict_Next
from cpython.unicode cimport PyUnicode_FindChar, PyUnicode_Tailmatch, PyUnicode_Contains
from cpython.long cimport PyLong_AsLongLongAndOverflow
from cpython.list cimport PyList_GET_SIZE, PyList_GET_ITEM
from cpython.tuple cimport PyTuple_GET_SIZE, PyTuple_GET_ITEM

from collections.abc import Mapping as _Mapping

from _owned cimport dict_str_keyed, check_dict_kind

check_dict_kind()

from inngest_core.errors import EvaluationError, comprehension_limit_error
from inngest_core._expr_ast import MAX_NESTING

cdef extern from "Python.h":
    const Py_ssize_t PY_SSIZE_T_MAX


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
    global RECURSION_ROOM, CHECK_KEYS, PLAIN_MAPPING
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


cdef object function(str name, Py_ssize_t arity, bint receiver):
    """The runtime's callable for a function, or None (``call`` then says why not)."""
    return FUNCTIONS.get((name, arity, receiver))


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
        cdef PyObject* p = PyDict_GetItemWithError(act, self.name)
        cdef object o = self.missing if p is NULL else cel_in(<object>p)
        cdef Py_ssize_t i
        cdef str field
        for i in range(PyTuple_GET_SIZE(self.fields)):
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


# ------------------------------------------------------------------ logic


cdef class And(Node):
    cdef Node left, right

    cdef object eval(self, dict act, Scope sc):
        cdef object l = self.left.eval(act, sc)
        if l is False:
            return False
        cdef object r = self.right.eval(act, sc)
        if r is False:
            return False
        if l is True and r is True:
            return True
        return undecided("_&&_", l, r)


cdef class Or(Node):
    cdef Node left, right

    cdef object eval(self, dict act, Scope sc):
        cdef object l = self.left.eval(act, sc)
        if l is True:
            return True
        cdef object r = self.right.eval(act, sc)
        if r is True:
            return True
        if l is False and r is False:
            return False
        return undecided("_||_", l, r)


cdef object undecided(str name, object l, object r):
    """``l op r`` when neither side decides: the first error, or no matching overload."""
    if is_error(l):
        return l
    if is_error(r):
        return r
    return NO_OVERLOAD(name, l, r)


cdef class Not(Node):
    cdef Node operand
    cdef object fn

    cdef object eval(self, dict act, Scope sc):
        cdef object v = self.operand.eval(act, sc)
        if v is True:
            return False
        if v is False:
            return True
        return apply1(self.fn, v)


cdef class Ternary(Node):
    cdef Node cond, then, other

    cdef object eval(self, dict act, Scope sc):
        cdef object c = self.cond.eval(act, sc)
        if c is True:
            return self.then.eval(act, sc)
        if c is False:
            return self.other.eval(act, sc)
        if is_error(c):
            return c
        return NO_OVERLOAD("_?_:_", c)


# ------------------------------------------------------------------ comparisons


cdef class Eq(Node):
    cdef Node left, right
    cdef bint negate
    cdef object fn

    cdef object eval(self, dict act, Scope sc):
        cdef object l = self.left.eval(act, sc)
        cdef object r = self.right.eval(act, sc)
        cdef type t = type(l)
        if t is type(r):
            if t is str:
                return (<str>l != <str>r) if self.negate else (<str>l == <str>r)
            if t is int or t is bool or t is float:
                return (l != r) if self.negate else (l == r)
        return apply2(self.fn, l, r)


cdef class EqConst(Node):
    """``x == literal`` / ``x != literal`` with a str or int literal."""
    cdef Node left
    cdef object value
    cdef type kind
    cdef bint negate
    cdef object fn

    cdef object eval(self, dict act, Scope sc):
        cdef object l = self.left.eval(act, sc)
        if type(l) is self.kind:
            if self.kind is str:
                return (<str>l != <str>self.value) if self.negate else (<str>l == <str>self.value)
            return (l != self.value) if self.negate else (l == self.value)
        return apply2(self.fn, l, self.value)


cdef enum:
    LT, LE, GT, GE


cdef class Compare(Node):
    cdef Node left, right
    cdef int op
    cdef object fn

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
                if self.op == LT:
                    return a < b
                if self.op == LE:
                    return a <= b
                if self.op == GT:
                    return a > b
                return a >= b
        elif t is float:
            if type(r) is float:
                x = l
                y = r
                if self.op == LT:
                    return x < y
                if self.op == LE:
                    return x <= y
                if self.op == GT:
                    return x > y
                return x >= y
        return apply2(self.fn, l, r)


cdef class InSet(Node):
    """``x in [literals]`` where every literal is a str, or every one an int: a frozenset
    answers values of that type; any other value goes to the runtime with the list."""
    cdef Node left
    cdef frozenset members
    cdef type kind
    cdef list listed

    cdef object eval(self, dict act, Scope sc):
        cdef object l = self.left.eval(act, sc)
        if type(l) is self.kind:
            return l in self.members
        return LIB_CONTAINS(l, self.listed)


cdef class In(Node):
    cdef Node left, right

    cdef object eval(self, dict act, Scope sc):
        cdef object l = self.left.eval(act, sc)
        cdef object r = self.right.eval(act, sc)
        if type(r) is dict and type(l) is str and not is_error(l):
            return l in <dict>r
        return LIB_CONTAINS(l, r)


# ------------------------------------------------------------------ arithmetic


cdef enum:
    ADD, SUB, MUL


cdef class Arith(Node):
    cdef Node left, right
    cdef int op
    cdef object fn

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


cdef class Negate(Node):
    cdef Node operand
    cdef object fn

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


cdef class Index(Node):
    cdef Node operand, key

    cdef object eval(self, dict act, Scope sc):
        cdef object o = self.operand.eval(act, sc)
        cdef object k = self.key.eval(act, sc)
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


cdef class Size(Node):
    cdef Node operand
    cdef object fn

    cdef object eval(self, dict act, Scope sc):
        cdef object v = self.operand.eval(act, sc)
        cdef type t = type(v)
        if t is str or t is dict or t is list or t is tuple or t is bytes:
            return len(v)
        return apply1(self.fn, v)


cdef enum:
    STARTS, ENDS, CONTAINS


cdef class StrMethod(Node):
    cdef Node target, arg
    cdef int op
    cdef object fn

    cdef object eval(self, dict act, Scope sc):
        cdef object s = self.target.eval(act, sc)
        cdef object a = self.arg.eval(act, sc)
        if type(s) is str and type(a) is str:
            if self.op == ENDS:
                return PyUnicode_Tailmatch(s, a, 0, PY_SSIZE_T_MAX, 1) == 1
            if self.op == STARTS:
                return PyUnicode_Tailmatch(s, a, 0, PY_SSIZE_T_MAX, -1) == 1
            return PyUnicode_Contains(s, a) == 1
        return apply2(self.fn, s, a)


cdef class Call1(Node):
    """A function of one value (a method's target, or a global's argument) in the table."""
    cdef Node arg
    cdef object fn

    cdef object eval(self, dict act, Scope sc):
        return apply1(self.fn, self.arg.eval(act, sc))


cdef class Call2(Node):
    cdef Node first, second
    cdef object fn

    cdef object eval(self, dict act, Scope sc):
        cdef object a = self.first.eval(act, sc)
        return apply2(self.fn, a, self.second.eval(act, sc))


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


cdef dict CMP_OPS = {"_<_": LT, "_<=_": LE, "_>_": GT, "_>=_": GE}
cdef dict ARITH_OPS = {"_+_": ADD, "_-_": SUB, "_*_": MUL}
cdef dict STR_OPS = {"startsWith": STARTS, "endsWith": ENDS, "contains": CONTAINS}
cdef dict MACRO_KINDS = {
    "all": M_ALL, "exists": M_EXISTS, "exists_one": M_EXISTS_ONE, "map": M_MAP, "filter": M_FILTER,
}
#: Literal kinds a native ``==`` or ``in`` fast path compares by exact type.
cdef dict FAST_KINDS = {"int": int, "string": str}


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
    if kind == "uint":
        return UINT(value)
    return value


cdef class Builder:
    """Compiles one AST.  ``slots`` is the deepest comprehension nesting (each nesting level
    holds its loop variable in its own slot of the evaluation's ``Scope``)."""
    cdef Py_ssize_t slots
    cdef Py_ssize_t depth
    cdef bint loops
    cdef bint dotted

    cdef Node build(self, tuple node, dict scope):
        cdef str tag = node[0]
        cdef Node built
        if tag == "const":
            built = Const.__new__(Const)
            (<Const>built).value = literal_value(node[1], node[2])
            return built
        if tag == "ident":
            return self.ident(node[1], scope)
        if tag == "select":
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
        if tag == "has":
            built = Has.__new__(Has)
            (<Has>built).operand = self.build(node[1], scope)
            (<Has>built).field = node[2]
            return built
        if tag == "call":
            return self.call(node[1], node[2], scope)
        if tag == "method":
            return self.method(node[1], node[2], node[3], scope)
        if tag == "list":
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
        if tag == "map":
            keys = tuple([self.build(k, scope) for k, _ in node[1]])
            values = tuple([self.build(v, scope) for _, v in node[1]])
            if all_constant(keys) and all_constant(values):
                return constant(LIB_MAKE_MAP([((<Const>k).value, (<Const>v).value)
                                              for k, v in zip(keys, values)]))
            built = MapLit.__new__(MapLit)
            (<MapLit>built).keys = keys
            (<MapLit>built).values = values
            return built
        if tag == "struct":
            built = Failing.__new__(Failing)
            (<Failing>built).error = LIB_ERROR("message", name=node[1])
            return built
        if tag == "comprehension":
            return self.comprehension(node, scope)
        raise ValueError(f"unknown expression node {tag!r}")

    cdef Node path(self, tuple node, dict scope):
        """``name.f1.f2...`` rooted at a variable (not a comprehension's): one Path node."""
        cdef list fields = []
        cdef tuple operand = node
        while operand[0] == "select":
            fields.append(operand[2])
            operand = operand[1]
        if operand[0] != "ident" or operand[1] in scope:
            return None
        cdef Node root = self.ident(operand[1], scope)
        if type(root) is not Ident:
            return None
        fields.reverse()
        cdef tuple key = tuple(fields)
        cdef tuple known = PATHS.get(key)
        if known is None:
            if len(PATHS) >= MISSING_LIMIT:
                PATHS.clear()
            known = PATHS[key] = (key, tuple([no_such_key(f) for f in fields]))
        cdef Path built = Path.__new__(Path)
        built.name = (<Ident>root).name
        built.missing = (<Ident>root).missing
        built.fields = known[0]
        built.missing_keys = known[1]
        return built

    cdef Node dotted_chain(self, tuple node, dict scope):
        cdef list fields = []
        cdef tuple operand = node
        while operand[0] == "select":
            fields.append(operand[2])
            operand = operand[1]
        if operand[0] != "ident" or operand[1] in scope:
            return None
        fields.reverse()
        cdef str root = operand[1]
        if root.startswith("."):
            root = root[1:]
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
        (<Ident>built).name = name[1:] if name.startswith(".") else name
        (<Ident>built).missing = missing_name((<Ident>built).name)
        return built

    cdef Node call(self, str name, tuple args, dict scope):
        cdef Py_ssize_t n = len(args)
        cdef Node built
        cdef tuple right
        if n == 2 and name == "_&&_":
            built = And.__new__(And)
            (<And>built).left = self.build(args[0], scope)
            (<And>built).right = self.build(args[1], scope)
            return built
        if n == 2 and name == "_||_":
            built = Or.__new__(Or)
            (<Or>built).left = self.build(args[0], scope)
            (<Or>built).right = self.build(args[1], scope)
            return built
        if n == 3 and name == "_?_:_":
            built = Ternary.__new__(Ternary)
            (<Ternary>built).cond = self.build(args[0], scope)
            (<Ternary>built).then = self.build(args[1], scope)
            (<Ternary>built).other = self.build(args[2], scope)
            return built
        if n == 1 and name == "!_":
            built = Not.__new__(Not)
            (<Not>built).operand = self.build(args[0], scope)
            (<Not>built).fn = function(name, 1, False)
            return built
        if n == 1 and name == "-_":
            built = Negate.__new__(Negate)
            (<Negate>built).operand = self.build(args[0], scope)
            (<Negate>built).fn = function(name, 1, False)
            return built
        if n == 2 and (name == "_==_" or name == "_!=_"):
            right = args[1]
            if right[0] == "const" and right[1] in FAST_KINDS:
                built = EqConst.__new__(EqConst)
                (<EqConst>built).left = self.build(args[0], scope)
                (<EqConst>built).value = right[2]
                (<EqConst>built).kind = FAST_KINDS[right[1]]
                (<EqConst>built).negate = name == "_!=_"
                (<EqConst>built).fn = function(name, 2, False)
                return built
            built = Eq.__new__(Eq)
            (<Eq>built).left = self.build(args[0], scope)
            (<Eq>built).right = self.build(args[1], scope)
            (<Eq>built).negate = name == "_!=_"
            (<Eq>built).fn = function(name, 2, False)
            return built
        if n == 2 and name in CMP_OPS:
            built = Compare.__new__(Compare)
            (<Compare>built).left = self.build(args[0], scope)
            (<Compare>built).right = self.build(args[1], scope)
            (<Compare>built).op = CMP_OPS[name]
            (<Compare>built).fn = function(name, 2, False)
            return built
        if n == 2 and name in ARITH_OPS:
            built = Arith.__new__(Arith)
            (<Arith>built).left = self.build(args[0], scope)
            (<Arith>built).right = self.build(args[1], scope)
            (<Arith>built).op = ARITH_OPS[name]
            (<Arith>built).fn = function(name, 2, False)
            return built
        if n == 2 and name == "@in":
            built = self.in_set(args, scope)
            if built is None:
                built = In.__new__(In)
                (<In>built).left = self.build(args[0], scope)
                (<In>built).right = self.build(args[1], scope)
            return built
        if n == 2 and name == "_[_]":
            built = Index.__new__(Index)
            (<Index>built).operand = self.build(args[0], scope)
            (<Index>built).key = self.build(args[1], scope)
            return built
        if n == 1 and name == "size":
            built = Size.__new__(Size)
            (<Size>built).operand = self.build(args[0], scope)
            (<Size>built).fn = function(name, 1, False)
            return built
        return self.generic(name, False, args, scope)

    cdef Node generic(self, str name, bint receiver, tuple args, dict scope):
        """A call to the runtime's table: direct when the overload is known here."""
        cdef Py_ssize_t n = len(args)
        cdef object fn = function(name, n - 1 if receiver else n, receiver)
        cdef Node built
        cdef tuple nodes
        if fn is not None:
            nodes = tuple([self.build(a, scope) for a in args])
            if all_constant(nodes):
                # Every function of the table is pure: timestamp("...") is parsed once.
                return constant(LIB_CALL(name, tuple([(<Const>a).value for a in nodes]),
                                         receiver))
        if fn is not None and n == 1:
            built = Call1.__new__(Call1)
            (<Call1>built).arg = nodes[0]
            (<Call1>built).fn = fn
            return built
        if fn is not None and n == 2:
            built = Call2.__new__(Call2)
            (<Call2>built).first = nodes[0]
            (<Call2>built).second = nodes[1]
            (<Call2>built).fn = fn
            return built
        built = Call.__new__(Call)
        (<Call>built).name = name
        (<Call>built).receiver = receiver
        (<Call>built).args = nodes if fn is not None else tuple([self.build(a, scope) for a in args])
        return built

    cdef Node in_set(self, tuple args, dict scope):
        cdef tuple listed = args[1]
        if listed[0] != "list" or not listed[1]:
            return None
        kinds = {element[1] if element[0] == "const" else None for element in listed[1]}
        if len(kinds) != 1:
            return None
        kind = kinds.pop()
        if kind not in FAST_KINDS:
            return None
        cdef InSet built = InSet.__new__(InSet)
        built.left = self.build(args[0], scope)
        values = [element[2] for element in listed[1]]
        built.members = frozenset(values)
        built.kind = FAST_KINDS[kind]
        built.listed = values
        return built

    cdef Node method(self, str name, tuple target, tuple args, dict scope):
        cdef Py_ssize_t n = len(args)
        cdef Node built
        if n == 0 and name == "size":
            built = Size.__new__(Size)
            (<Size>built).operand = self.build(target, scope)
            (<Size>built).fn = function(name, 0, True)
            return built
        if n == 1 and name in STR_OPS:
            built = StrMethod.__new__(StrMethod)
            (<StrMethod>built).target = self.build(target, scope)
            (<StrMethod>built).arg = self.build(args[0], scope)
            (<StrMethod>built).op = STR_OPS[name]
            (<StrMethod>built).fn = function(name, 1, True)
            return built
        return self.generic(name, True, (target,) + args, scope)

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
    cdef readonly frozenset variables
    cdef Node root
    cdef Py_ssize_t slots
    cdef bint loops
    cdef Py_ssize_t max_steps
    cdef tuple dotted_names     # dotted names a select chain could mean
    cdef Node dotted_root       # the tree resolving them, compiled when first needed
    cdef Py_ssize_t deep        # the tree's height bound when past the default depth, else 0

    def __init__(self, str source, tuple ast, max_comprehension_steps=1_000_000,
                 max_depth=250):
        """A program for an already parsed tree (``compile_program`` parses and builds).
        ``max_depth`` is taken for the Python twin's signature: here the tree's own height
        is held to ``MAX_NESTING``, the most C recursion is trusted with."""
        if self.source is not None:
            raise AttributeError("Program is immutable")
        setup(self, source, ast, max_comprehension_steps, tree_height(ast))

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
        if self.dotted_names and binds_dotted(act, self.dotted_names):
            root = self.dotted()
        if self.loops:
            sc = Scope.__new__(Scope)
            sc.slots = [None] * self.slots
            sc.steps = 0
            sc.max_steps = self.max_steps
        return root.eval(act, sc)

    cdef Node dotted(self):
        # A benign race: two threads may both compile it; either tree is the same.
        cdef Builder builder
        if self.dotted_root is None:
            builder = Builder.__new__(Builder)
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
        cdef Py_ssize_t height = tree_height(tree)  # substituted data can nest deeply
        if height > MAX_NESTING:
            raise depth_limit_error(MAX_NESTING)
        with RECURSION_ROOM(height):  # unparse recurses in Python, once per level
            source = module.unparse(tree)
        return make_program(source, tree, self.max_steps, height)

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
        if type(<object>key) is str and PyUnicode_FindChar(<object>key, 46, 0,
                                                           len(<str><object>key), 1) >= 0:
            for name in names:
                if name in act:
                    return True
            return False
    return False


cdef tuple free_names(tuple node):
    """The free variable names (without a leading dot; type names are not variables) and
    the dotted names select chains could mean, sorted."""
    cdef set free = set()
    cdef set dotted = set()
    cdef list stack = [(node, frozenset())]
    cdef tuple item, operand
    cdef frozenset bound
    cdef list fields
    while stack:
        item, bound = stack.pop()
        kind = item[0]
        if kind == "ident":
            name = item[1].lstrip(".")
            if item[1] not in bound and name not in TYPES:
                free.add(name)
        elif kind == "select":
            fields = []
            operand = item
            while operand[0] == "select":
                fields.append(operand[2])
                operand = operand[1]
            if operand[0] == "ident" and operand[1] not in bound:
                fields.reverse()
                root = operand[1].lstrip(".")
                for i in range(1, len(fields) + 1):
                    dotted.add(".".join([root] + fields[:i]))
            stack.append((operand, bound))
        elif kind == "has":
            stack.append((item[1], bound))
        elif kind == "call":
            stack.extend([(arg, bound) for arg in item[2]])
        elif kind == "method":
            stack.append((item[2], bound))
            stack.extend([(arg, bound) for arg in item[3]])
        elif kind == "list":
            stack.extend([(element, bound) for element in item[1]])
        elif kind == "map":
            for key, value in item[1]:
                stack.append((key, bound))
                stack.append((value, bound))
        elif kind == "struct":
            stack.extend([(value, bound) for _, value in item[2]])
        elif kind == "comprehension":
            stack.append((item[2], bound))
            inner = bound | {item[3]}
            stack.extend([(arg, inner) for arg in item[4]])
    return frozenset(free), tuple(sorted([n for n in dotted if "." in n]))




cdef Py_ssize_t tree_height(tuple node) except -1:
    """The height of an ``_expr_ast`` tree, without recursion."""
    cdef list stack = [(node, 1)]
    cdef Py_ssize_t height = 0, level
    cdef tuple item
    while stack:
        item, level = stack.pop()
        if level > height:
            height = level
        level += 1
        kind = item[0]
        if kind == "select" or kind == "has":
            stack.append((item[1], level))
        elif kind == "call":
            stack.extend([(child, level) for child in item[2]])
        elif kind == "list":
            stack.extend([(child, level) for child in item[1]])
        elif kind == "method":
            stack.append((item[2], level))
            stack.extend([(child, level) for child in item[3]])
        elif kind == "map":
            for key, value in item[1]:
                stack.append((key, level))
                stack.append((value, level))
        elif kind == "struct":
            stack.extend([(value, level) for _, value in item[2]])
        elif kind == "comprehension":
            stack.append((item[2], level))
            stack.extend([(child, level) for child in item[4]])
    return height


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
    program.root = builder.build(tree, {})
    program.deep = height if height > 250 else 0
    program.source = source
    free, dotted = free_names(tree)
    program.variables = shared(free)
    program.dotted_names = dotted
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
