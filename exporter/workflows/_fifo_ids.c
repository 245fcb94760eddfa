/* FifoIds: a window of the last `capacity` ids (str, or tuples of str), in C memory.
 *
 * Why C: the dedup window and the closed pairs are the exporter's largest memories. Held
 * as Python objects (a set of the ids' strings), every event allocates and later frees
 * objects scattered over the heap, and once the windows are full an event costs 0.3 µs
 * more than on a new exporter (docs/performance.md). Here an id is two 64-bit hashes in
 * preallocated arrays: no object is made, held or freed per id, and memory is fixed at
 * start (24 bytes an id at the default load).
 *
 * Exactness: an id is known by two independent 64-bit hashes: Python's own (SipHash, keyed
 * per process) and a second one over the same characters with a seed drawn per window. Two
 * different ids are taken for the same only when both collide, about once in 2^128 pairs.
 *
 * Layout: `ring` holds the ids in the order they came (the oldest at `head`); `slots` is
 * an open-addressing table (linear probing, at most half full) of ring positions, each
 * with 32 bits of the id's first hash, so that a probe reads the ring only on a match.
 * Forgetting the oldest id deletes its slot by backward shift (no tombstones), so every
 * operation stays O(1) however many ids were forgotten before.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    uint64_t first;
    uint64_t second;
} Hashes;

typedef struct {
    uint32_t position_plus_one; /* 0: empty */
    uint32_t tag;               /* the first hash's high 32 bits; its home slot too */
} Slot;

typedef struct {
    PyObject_HEAD
    Hashes *ring;
    Slot *slots;
    Py_ssize_t capacity;
    Py_ssize_t head;  /* position of the oldest id */
    Py_ssize_t count;
    uint64_t mask;    /* slots - 1 */
    uint64_t seed;
} FifoIds;

/* ---- the second hash: MurmurHash64A's mixing over a string's characters ------------- */

static const uint64_t M = 0xc6a4a7935bd1e995ULL;

static uint64_t mix_bytes(const unsigned char *data, size_t length, uint64_t seed) {
    uint64_t h = seed ^ (length * M);
    size_t words = length / 8;
    for (size_t i = 0; i < words; i++) {
        uint64_t k;
        memcpy(&k, data + 8 * i, 8);
        k *= M;
        k ^= k >> 47;
        k *= M;
        h ^= k;
        h *= M;
    }
    uint64_t rest = 0;
    memcpy(&rest, data + 8 * words, length & 7);
    h ^= rest;
    h *= M;
    h ^= h >> 47;
    h *= M;
    h ^= h >> 47;
    return h;
}

static int second_hash(PyObject *key, uint64_t seed, uint64_t *out) {
    if (PyUnicode_Check(key)) {
        /* CPython stores a str in the narrowest kind that holds it, so equal strings
           have equal kinds and bytes */
#if PY_VERSION_HEX < 0x030C0000
        if (PyUnicode_READY(key) < 0)
            return -1;
#endif
        size_t length = (size_t)PyUnicode_GET_LENGTH(key) * PyUnicode_KIND(key);
        *out = mix_bytes(PyUnicode_DATA(key), length, seed ^ PyUnicode_KIND(key));
        return 0;
    }
    if (PyTuple_Check(key)) {
        uint64_t h = seed ^ (uint64_t)PyTuple_GET_SIZE(key);
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(key); i++) {
            PyObject *item = PyTuple_GET_ITEM(key, i);
            if (!PyUnicode_Check(item))
                goto wrong_type;
            uint64_t item_hash;
            if (second_hash(item, seed + (uint64_t)i + 1, &item_hash) < 0)
                return -1;
            h = (h ^ item_hash) * M;
            h ^= h >> 47;
        }
        *out = h;
        return 0;
    }
wrong_type:
    PyErr_Format(PyExc_TypeError, "FifoIds keys are str or tuples of str, not %.100s",
                 Py_TYPE(key)->tp_name);
    return -1;
}

static int hashes_of(FifoIds *self, PyObject *key, Hashes *out) {
    Py_hash_t first = PyObject_Hash(key);
    if (first == -1 && PyErr_Occurred())
        return -1;
    out->first = (uint64_t)first;
    return second_hash(key, self->seed, &out->second);
}

/* ---- the table -------------------------------------------------------------------------- */

static inline uint32_t tag_of(const Hashes *hashes) { return (uint32_t)(hashes->first >> 32); }

/* The slot holding `hashes`, or the empty slot where it would go. */
static uint64_t probe(const FifoIds *self, const Hashes *hashes) {
    uint32_t tag = tag_of(hashes);
    uint64_t index = tag & self->mask;
    for (;;) {
        const Slot *slot = &self->slots[index];
        if (slot->position_plus_one == 0)
            return index;
        if (slot->tag == tag) {
            const Hashes *held = &self->ring[slot->position_plus_one - 1];
            if (held->first == hashes->first && held->second == hashes->second)
                return index;
        }
        index = (index + 1) & self->mask;
    }
}

static inline int holds(const FifoIds *self, const Hashes *hashes) {
    return self->slots[probe(self, hashes)].position_plus_one != 0;
}

/* Empty slot `index`, moving later entries of its run back so that no probe stops early. */
static void delete_slot(FifoIds *self, uint64_t index) {
    uint64_t next = index;
    for (;;) {
        next = (next + 1) & self->mask;
        Slot *slot = &self->slots[next];
        if (slot->position_plus_one == 0)
            break;
        uint64_t home = slot->tag & self->mask;
        /* the entry may move to `index` when `index` lies between its home and `next` */
        if (((next - home) & self->mask) >= ((next - index) & self->mask)) {
            self->slots[index] = *slot;
            index = next;
        }
    }
    self->slots[index].position_plus_one = 0;
}

static void forget_oldest(FifoIds *self) {
    delete_slot(self, probe(self, &self->ring[self->head]));
    self->head = (self->head + 1) % self->capacity;
    self->count--;
}

/* Record an id known not to be held; the oldest is forgotten when the window is full. */
static void push(FifoIds *self, const Hashes *hashes) {
    if (self->count == self->capacity)
        forget_oldest(self);
    Py_ssize_t position = (self->head + self->count) % self->capacity;
    self->ring[position] = *hashes;
    self->count++;
    Slot *slot = &self->slots[probe(self, hashes)];
    slot->position_plus_one = (uint32_t)position + 1;
    slot->tag = tag_of(hashes);
}

/* ---- the Python type ------------------------------------------------------------------- */

static PyObject *FifoIds_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    static char *keywords[] = {"capacity", "seed", NULL};
    Py_ssize_t capacity;
    unsigned long long seed;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "nK", keywords, &capacity, &seed))
        return NULL;
    if (capacity < 1 || capacity > (1 << 30)) {
        PyErr_SetString(PyExc_ValueError, "capacity must be between 1 and 2**30");
        return NULL;
    }
    FifoIds *self = (FifoIds *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    uint64_t slots = 1;
    while (slots < 2 * (uint64_t)capacity)
        slots <<= 1;
    self->capacity = capacity;
    self->mask = slots - 1;
    self->seed = seed;
    /* calloc: pages the window has not reached yet cost no memory */
    self->ring = PyMem_RawCalloc((size_t)capacity, sizeof(Hashes));
    self->slots = PyMem_RawCalloc((size_t)slots, sizeof(Slot));
    if (self->ring == NULL || self->slots == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    return (PyObject *)self;
}

static void FifoIds_dealloc(FifoIds *self) {
    PyMem_RawFree(self->ring);
    PyMem_RawFree(self->slots);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *FifoIds_has(FifoIds *self, PyObject *key) {
    Hashes hashes;
    if (hashes_of(self, key, &hashes) < 0)
        return NULL;
    return PyBool_FromLong(holds(self, &hashes));
}

static int FifoIds_contains(FifoIds *self, PyObject *key) {
    Hashes hashes;
    if (hashes_of(self, key, &hashes) < 0)
        return -1;
    return holds(self, &hashes);
}

static PyObject *FifoIds_add(FifoIds *self, PyObject *key) {
    Hashes hashes;
    if (hashes_of(self, key, &hashes) < 0)
        return NULL;
    if (holds(self, &hashes))
        Py_RETURN_FALSE;
    push(self, &hashes);
    Py_RETURN_TRUE;
}

static PyObject *FifoIds_add_new(FifoIds *self, PyObject *key) {
    Hashes hashes;
    if (hashes_of(self, key, &hashes) < 0)
        return NULL;
    if (!holds(self, &hashes))
        push(self, &hashes);
    Py_RETURN_NONE;
}

static PyObject *FifoIds_settle(FifoIds *self, PyObject *unused) { Py_RETURN_NONE; }

static int compare_hashes(const void *left, const void *right) {
    const Hashes *a = left, *b = right;
    if (a->first != b->first)
        return a->first < b->first ? -1 : 1;
    if (a->second != b->second)
        return a->second < b->second ? -1 : 1;
    return 0;
}

/* Whether `keys` holds no id twice and none held already; fills `hashes`. -1: an error. */
static int all_new(FifoIds *self, PyObject **keys, Py_ssize_t count, Hashes *hashes) {
    for (Py_ssize_t i = 0; i < count; i++) {
        if (hashes_of(self, keys[i], &hashes[i]) < 0)
            return -1;
        if (holds(self, &hashes[i]))
            return 0;
    }
    Hashes *sorted = PyMem_Malloc((size_t)count * sizeof(Hashes));
    if (sorted == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memcpy(sorted, hashes, (size_t)count * sizeof(Hashes));
    qsort(sorted, (size_t)count, sizeof(Hashes), compare_hashes);
    int distinct = 1;
    for (Py_ssize_t i = 1; i < count && distinct; i++)
        distinct = compare_hashes(&sorted[i - 1], &sorted[i]) != 0;
    PyMem_Free(sorted);
    return distinct;
}

static PyObject *FifoIds_add_all(FifoIds *self, PyObject *sequence) {
    PyObject *fast = PySequence_Fast(sequence, "add_all takes a sequence of ids");
    if (fast == NULL)
        return NULL;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(fast);
    Hashes *hashes = PyMem_Malloc((size_t)(count ? count : 1) * sizeof(Hashes));
    if (hashes == NULL) {
        Py_DECREF(fast);
        return PyErr_NoMemory();
    }
    int fresh = all_new(self, PySequence_Fast_ITEMS(fast), count, hashes);
    if (fresh == 1)
        for (Py_ssize_t i = 0; i < count; i++)
            push(self, &hashes[i]);
    PyMem_Free(hashes);
    Py_DECREF(fast);
    if (fresh < 0)
        return NULL;
    return PyBool_FromLong(fresh);
}

static Py_ssize_t FifoIds_length(FifoIds *self) { return self->count; }

static PyObject *FifoIds_sizeof(FifoIds *self, PyObject *unused) {
    size_t arrays = (size_t)self->capacity * sizeof(Hashes) + (self->mask + 1) * sizeof(Slot);
    return PyLong_FromSize_t(Py_TYPE(self)->tp_basicsize + arrays);
}

static PyMethodDef FifoIds_methods[] = {
    {"has", (PyCFunction)FifoIds_has, METH_O, "Whether the id is in the window."},
    {"add", (PyCFunction)FifoIds_add, METH_O,
     "Record the id; False when it was already there (a repeat)."},
    {"add_new", (PyCFunction)FifoIds_add_new, METH_O, "Record an id (once)."},
    {"add_all", (PyCFunction)FifoIds_add_all, METH_O,
     "Record every id when none is held and none repeats; else record none, return False."},
    {"settle", (PyCFunction)FifoIds_settle, METH_NOARGS,
     "Nothing to do: every id has its place in the order when added."},
    {"__sizeof__", (PyCFunction)FifoIds_sizeof, METH_NOARGS,
     "Bytes held, the arrays included: fixed at creation, whatever the ids."},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods FifoIds_as_sequence = {
    .sq_length = (lenfunc)FifoIds_length,
    .sq_contains = (objobjproc)FifoIds_contains,
};

static PyTypeObject FifoIdsType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "exporter.workflows._fifo_ids.FifoIds",
    .tp_doc = "FifoIds(capacity, seed): the last `capacity` ids, str or tuples of str.",
    .tp_basicsize = sizeof(FifoIds),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = FifoIds_new,
    .tp_dealloc = (destructor)FifoIds_dealloc,
    .tp_methods = FifoIds_methods,
    .tp_as_sequence = &FifoIds_as_sequence,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "exporter.workflows._fifo_ids",
    "A window of recent ids held in C memory (see the source's header).", -1, NULL,
};

PyMODINIT_FUNC PyInit__fifo_ids(void) {
    if (PyType_Ready(&FifoIdsType) < 0)
        return NULL;
    PyObject *created = PyModule_Create(&module);
    if (created == NULL)
        return NULL;
    Py_INCREF(&FifoIdsType);
    if (PyModule_AddObject(created, "FifoIds", (PyObject *)&FifoIdsType) < 0) {
        Py_DECREF(&FifoIdsType);
        Py_DECREF(created);
        return NULL;
    }
    return created;
}
