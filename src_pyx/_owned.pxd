# Shared by the compiled twins (cimported, nothing at run time): is a dict's every key an
# exact str?  CPython keeps such a dict in a "unicode" keys table and converts the table for
# good on the first key of another type, so the table's kind answers in O(1).  A dict of
# exact str keys is looked up without calling any key's __eq__ or __hash__; any other dict is
# checked key by key by ``_expr_lib.check_keys`` (see "owned values" there).  Where the
# layout is not known, or a module's self-check at import disagrees, the answer is always
# "no" and every dict takes the slow, safe check.

cdef extern from *:
    """
    #if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030F0000 && !defined(Py_GIL_DISABLED) && !defined(Py_LIMITED_API)
    static int inngest_dict_kind_known = 1;
    static inline int inngest_dict_str_keyed(PyObject *d) {
        /* PyDictKeysObject: Py_ssize_t dk_refcnt; uint8_t dk_log2_size;
           uint8_t dk_log2_index_bytes; uint8_t dk_kind (0 = DICT_KEYS_GENERAL) */
        const unsigned char *keys = (const unsigned char *)((PyDictObject *)d)->ma_keys;
        return inngest_dict_kind_known && keys[sizeof(Py_ssize_t) + 2] != 0;
    }
    #else
    static int inngest_dict_kind_known = 0;
    static inline int inngest_dict_str_keyed(PyObject *d) { (void)d; return 0; }
    #endif
    """
    int inngest_dict_kind_known
    bint dict_str_keyed "inngest_dict_str_keyed" (object d) noexcept


cdef inline int check_dict_kind() noexcept:
    """Turn the fast answer off unless it is right on dicts whose answer is known."""
    global inngest_dict_kind_known
    if not (dict_str_keyed({"a": 1}) and not dict_str_keyed({1: 1})
            and not dict_str_keyed({"a": 1, 2: 2}) and dict_str_keyed({})):
        inngest_dict_kind_known = 0
    return inngest_dict_kind_known


cdef extern from *:
    """
    #include <string.h>
    /* Does the exact str s hold a '.' (an activation key naming a qualified variable)?  An
       ASCII name, the usual key, is searched with memchr, the rest with PyUnicode_FindChar. */
    static inline int inngest_key_has_dot(PyObject *s) {
        if (PyUnicode_IS_COMPACT_ASCII(s))
            return memchr(PyUnicode_DATA(s), '.', (size_t)PyUnicode_GET_LENGTH(s)) != NULL;
        return PyUnicode_FindChar(s, '.', 0, PyUnicode_GetLength(s), 1) >= 0;
    }
    """
    bint key_has_dot "inngest_key_has_dot" (object s) noexcept
