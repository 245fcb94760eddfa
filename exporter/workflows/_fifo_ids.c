/* FifoIds: a window of the last `capacity` ids (str, or tuples of str), in C memory;
 * FifoMap: the same window with a value per id (the history of finished workflows).
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
 *
 * FifoMap keeps a value per ring position and no key object: a history of Python dict
 * entries keyed by the workflow ids' strings held those strings for as long as the entry,
 * and freeing them 10,000 workflows later scattered the next events' small objects over
 * old memory (docs/performance.md: a full history cost 1.09x a small one, in-process).
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
    Hashes *ring;
    Slot *slots;
    Py_ssize_t capacity;
    Py_ssize_t head;  /* position of the oldest id */
    Py_ssize_t count;
    uint64_t mask;    /* slots - 1 */
    uint64_t seed;
} Window;

typedef struct {
    PyObject_HEAD
    Window window;
} FifoIds;

typedef struct {
    PyObject_HEAD
    Window window;
    PyObject **values; /* by ring position; NULL where no id is held */
} FifoMap;

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

static int hashes_of(const Window *w, PyObject *key, Hashes *out) {
    Py_hash_t first = PyObject_Hash(key);
    if (first == -1 && PyErr_Occurred())
        return -1;
    out->first = (uint64_t)first;
    return second_hash(key, w->seed, &out->second);
}

/* ---- the window: ring and table ---------------------------------------------------------- */

static inline uint32_t tag_of(const Hashes *hashes) { return (uint32_t)(hashes->first >> 32); }

/* The slot holding `hashes`, or the empty slot where it would go. */
static uint64_t probe(const Window *w, const Hashes *hashes) {
    uint32_t tag = tag_of(hashes);
    uint64_t index = tag & w->mask;
    for (;;) {
        const Slot *slot = &w->slots[index];
        if (slot->position_plus_one == 0)
            return index;
        if (slot->tag == tag) {
            const Hashes *held = &w->ring[slot->position_plus_one - 1];
            if (held->first == hashes->first && held->second == hashes->second)
                return index;
        }
        index = (index + 1) & w->mask;
    }
}

/* The ring position of the id, or -1. */
static inline Py_ssize_t position_of(const Window *w, const Hashes *hashes) {
    return (Py_ssize_t)w->slots[probe(w, hashes)].position_plus_one - 1;
}

static inline int holds(const Window *w, const Hashes *hashes) {
    return position_of(w, hashes) >= 0;
}

/* Empty slot `index`, moving later entries of its run back so that no probe stops early. */
static void delete_slot(Window *w, uint64_t index) {
    uint64_t next = index;
    for (;;) {
        next = (next + 1) & w->mask;
        Slot *slot = &w->slots[next];
        if (slot->position_plus_one == 0)
            break;
        uint64_t home = slot->tag & w->mask;
        /* the entry may move to `index` when `index` lies between its home and `next` */
        if (((next - home) & w->mask) >= ((next - index) & w->mask)) {
            w->slots[index] = *slot;
            index = next;
        }
    }
    w->slots[index].position_plus_one = 0;
}

/* The ring position `offset` places after the oldest (offset <= capacity): a subtraction,
 * not a division, which cost more than the rest of an id's bookkeeping. */
static inline Py_ssize_t ring_position(const Window *w, Py_ssize_t offset) {
    Py_ssize_t position = w->head + offset;
    return position < w->capacity ? position : position - w->capacity;
}

static void forget_oldest(Window *w) {
    delete_slot(w, probe(w, &w->ring[w->head]));
    w->head = ring_position(w, 1);
    w->count--;
}

/* Record an id known not to be held, the window not full; returns its ring position. */
static Py_ssize_t push(Window *w, const Hashes *hashes) {
    Py_ssize_t position = ring_position(w, w->count);
    w->ring[position] = *hashes;
    w->count++;
    Slot *slot = &w->slots[probe(w, hashes)];
    slot->position_plus_one = (uint32_t)position + 1;
    slot->tag = tag_of(hashes);
    return position;
}

/* Record an id known not to be held; the oldest is forgotten when the window is full. */
static void push_forgetting(Window *w, const Hashes *hashes) {
    if (w->count == w->capacity)
        forget_oldest(w);
    push(w, hashes);
}

static int parse_window(PyObject *args, PyObject *kwargs, Py_ssize_t *capacity, uint64_t *seed) {
    static char *keywords[] = {"capacity", "seed", NULL};
    unsigned long long seed_argument;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "nK", keywords, capacity, &seed_argument))
        return -1;
    if (*capacity < 1 || *capacity > (1 << 30)) {
        PyErr_SetString(PyExc_ValueError, "capacity must be between 1 and 2**30");
        return -1;
    }
    *seed = seed_argument;
    return 0;
}

/* The arrays of an empty window; -1 with MemoryError set. */
static int window_init(Window *w, Py_ssize_t capacity, uint64_t seed) {
    uint64_t slots = 1;
    while (slots < 2 * (uint64_t)capacity)
        slots <<= 1;
    w->capacity = capacity;
    w->mask = slots - 1;
    w->seed = seed;
    /* calloc: pages the window has not reached yet cost no memory */
    w->ring = PyMem_RawCalloc((size_t)capacity, sizeof(Hashes));
    w->slots = PyMem_RawCalloc((size_t)slots, sizeof(Slot));
    if (w->ring == NULL || w->slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static void window_free(Window *w) {
    PyMem_RawFree(w->ring);
    PyMem_RawFree(w->slots);
}

static size_t window_bytes(const Window *w) {
    return (size_t)w->capacity * sizeof(Hashes) + (w->mask + 1) * sizeof(Slot);
}

/* ---- FifoIds ------------------------------------------------------------------------------ */

static PyObject *FifoIds_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    Py_ssize_t capacity;
    uint64_t seed;
    if (parse_window(args, kwargs, &capacity, &seed) < 0)
        return NULL;
    FifoIds *self = (FifoIds *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    if (window_init(&self->window, capacity, seed) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static void FifoIds_dealloc(FifoIds *self) {
    window_free(&self->window);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *FifoIds_has(FifoIds *self, PyObject *key) {
    Hashes hashes;
    if (hashes_of(&self->window, key, &hashes) < 0)
        return NULL;
    return PyBool_FromLong(holds(&self->window, &hashes));
}

static int FifoIds_contains(FifoIds *self, PyObject *key) {
    Hashes hashes;
    if (hashes_of(&self->window, key, &hashes) < 0)
        return -1;
    return holds(&self->window, &hashes);
}

static PyObject *FifoIds_add(FifoIds *self, PyObject *key) {
    Hashes hashes;
    if (hashes_of(&self->window, key, &hashes) < 0)
        return NULL;
    if (holds(&self->window, &hashes))
        Py_RETURN_FALSE;
    push_forgetting(&self->window, &hashes);
    Py_RETURN_TRUE;
}

static PyObject *FifoIds_add_new(FifoIds *self, PyObject *key) {
    Hashes hashes;
    if (hashes_of(&self->window, key, &hashes) < 0)
        return NULL;
    if (!holds(&self->window, &hashes))
        push_forgetting(&self->window, &hashes);
    Py_RETURN_NONE;
}

static PyObject *FifoIds_settle(FifoIds *self, PyObject *unused) { Py_RETURN_NONE; }

/* A batch asks for the table's cache lines ahead of using them: its ids' home slots while
 * it hashes them, and the home slots of the ids it will forget PREFETCH_DISTANCE pushes
 * later. The table outgrows the CPU's caches at the default window, and waiting for each
 * line in turn cost 2-5 % of an event's CPU over HTTP (docs/performance.md). */
#define PREFETCH_DISTANCE 16

static inline void prefetch_home(const Window *w, const Hashes *hashes) {
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(&w->slots[tag_of(hashes) & w->mask]);
#else
    (void)w;
    (void)hashes;
#endif
}

/* Whether no id repeats within `hashes`: a table of their indices, local to the call. */
static int distinct(const Hashes *hashes, Py_ssize_t count) {
    uint64_t size = 1;
    while (size < 2 * (uint64_t)count)
        size <<= 1;
    uint32_t *seen = PyMem_Calloc((size_t)size, sizeof(uint32_t)); /* index + 1; 0: empty */
    if (seen == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    int unique = 1;
    for (Py_ssize_t i = 0; i < count && unique; i++) {
        uint64_t index = hashes[i].second & (size - 1);
        for (; seen[index] != 0; index = (index + 1) & (size - 1)) {
            const Hashes *other = &hashes[seen[index] - 1];
            if (other->first == hashes[i].first && other->second == hashes[i].second) {
                unique = 0;
                break;
            }
        }
        seen[index] = (uint32_t)i + 1;
    }
    PyMem_Free(seen);
    return unique;
}

/* Whether `keys` holds no id twice and none held already; fills `hashes`. -1: an error. */
static int all_new(const Window *w, PyObject **keys, Py_ssize_t count, Hashes *hashes) {
    for (Py_ssize_t i = 0; i < count; i++) {
        if (hashes_of(w, keys[i], &hashes[i]) < 0)
            return -1;
        prefetch_home(w, &hashes[i]);
    }
    for (Py_ssize_t i = 0; i < count; i++)
        if (holds(w, &hashes[i]))
            return 0;
    return distinct(hashes, count);
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
    int fresh = all_new(&self->window, PySequence_Fast_ITEMS(fast), count, hashes);
    if (fresh == 1) {
        Window *w = &self->window;
        for (Py_ssize_t i = 0; i < count; i++) {
            Py_ssize_t ahead = PREFETCH_DISTANCE - (w->capacity - w->count);
            if (ahead >= 0 && ahead < w->count)
                prefetch_home(w, &w->ring[ring_position(w, ahead)]);
            push_forgetting(w, &hashes[i]);
        }
    }
    PyMem_Free(hashes);
    Py_DECREF(fast);
    if (fresh < 0)
        return NULL;
    return PyBool_FromLong(fresh);
}

static Py_ssize_t FifoIds_length(FifoIds *self) { return self->window.count; }

static PyObject *FifoIds_sizeof(FifoIds *self, PyObject *unused) {
    return PyLong_FromSize_t(Py_TYPE(self)->tp_basicsize + window_bytes(&self->window));
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

/* ---- FifoMap ------------------------------------------------------------------------------ */

static PyObject *FifoMap_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    Py_ssize_t capacity;
    uint64_t seed;
    if (parse_window(args, kwargs, &capacity, &seed) < 0)
        return NULL;
    FifoMap *self = (FifoMap *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    if (window_init(&self->window, capacity, seed) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    self->values = PyMem_RawCalloc((size_t)capacity, sizeof(PyObject *));
    if (self->values == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    return (PyObject *)self;
}

/* The value at the i-th position from the oldest. */
static inline PyObject **value_at(FifoMap *self, Py_ssize_t i) {
    return &self->values[ring_position(&self->window, i)];
}

static int FifoMap_traverse(FifoMap *self, visitproc visit, void *arg) {
    if (self->values != NULL)
        for (Py_ssize_t i = 0; i < self->window.count; i++)
            Py_VISIT(*value_at(self, i));
    return 0;
}

/* Forget every id (the collector breaking a cycle through a value, or the map's end). */
static int FifoMap_clear(FifoMap *self) {
    Window *w = &self->window;
    if (self->values != NULL)
        while (w->count > 0) {
            PyObject *value = self->values[w->head];
            self->values[w->head] = NULL;
            forget_oldest(w);
            Py_DECREF(value);
        }
    return 0;
}

static void FifoMap_dealloc(FifoMap *self) {
    PyObject_GC_UnTrack(self);
    if (self->window.slots != NULL && self->window.ring != NULL)
        FifoMap_clear(self);
    PyMem_RawFree(self->values);
    window_free(&self->window);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *FifoMap_get(FifoMap *self, PyObject *key) {
    Hashes hashes;
    if (hashes_of(&self->window, key, &hashes) < 0)
        return NULL;
    Py_ssize_t position = position_of(&self->window, &hashes);
    if (position < 0)
        Py_RETURN_NONE;
    return Py_NewRef(self->values[position]);
}

static int FifoMap_contains(FifoMap *self, PyObject *key) {
    Hashes hashes;
    if (hashes_of(&self->window, key, &hashes) < 0)
        return -1;
    return holds(&self->window, &hashes);
}

static PyObject *FifoMap_push(FifoMap *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "push() takes 2 arguments (%zd given)", nargs);
        return NULL;
    }
    Window *w = &self->window;
    Hashes hashes;
    if (hashes_of(w, args[0], &hashes) < 0)
        return NULL;
    if (holds(w, &hashes)) {
        PyErr_SetObject(PyExc_KeyError, args[0]);
        return NULL;
    }
    PyObject *oldest = NULL;
    if (w->count == w->capacity) {
        oldest = self->values[w->head];
        self->values[w->head] = NULL;
        forget_oldest(w);
    }
    self->values[push(w, &hashes)] = Py_NewRef(args[1]);
    return oldest != NULL ? oldest : Py_NewRef(Py_None);
}

static PyObject *FifoMap_replace(FifoMap *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "replace() takes 2 arguments (%zd given)", nargs);
        return NULL;
    }
    Hashes hashes;
    if (hashes_of(&self->window, args[0], &hashes) < 0)
        return NULL;
    Py_ssize_t position = position_of(&self->window, &hashes);
    if (position < 0) {
        PyErr_SetObject(PyExc_KeyError, args[0]);
        return NULL;
    }
    PyObject *before = self->values[position];
    self->values[position] = Py_NewRef(args[1]);
    Py_DECREF(before);
    Py_RETURN_NONE;
}

static PyObject *FifoMap_values(FifoMap *self, PyObject *unused) {
    PyObject *values = PyList_New(self->window.count);
    if (values == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < self->window.count; i++)
        PyList_SET_ITEM(values, i, Py_NewRef(*value_at(self, i)));
    return values;
}

static Py_ssize_t FifoMap_length(FifoMap *self) { return self->window.count; }

static PyObject *FifoMap_sizeof(FifoMap *self, PyObject *unused) {
    size_t values = (size_t)self->window.capacity * sizeof(PyObject *);
    return PyLong_FromSize_t(Py_TYPE(self)->tp_basicsize + window_bytes(&self->window) + values);
}

static PyMethodDef FifoMap_methods[] = {
    {"get", (PyCFunction)FifoMap_get, METH_O, "The id's value, or None."},
    {"push", (PyCFunction)(void (*)(void))FifoMap_push, METH_FASTCALL,
     "push(key, value): hold a new id (KeyError if held) as the newest; when the map was "
     "full, the oldest leaves first and its value is returned, else None."},
    {"replace", (PyCFunction)(void (*)(void))FifoMap_replace, METH_FASTCALL,
     "replace(key, value): a held id's new value, in its place (KeyError if not held)."},
    {"values", (PyCFunction)FifoMap_values, METH_NOARGS, "The values, oldest first (a list)."},
    {"__sizeof__", (PyCFunction)FifoMap_sizeof, METH_NOARGS,
     "Bytes held by the arrays, not counting the values: fixed at creation."},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods FifoMap_as_sequence = {
    .sq_length = (lenfunc)FifoMap_length,
    .sq_contains = (objobjproc)FifoMap_contains,
};

static PyTypeObject FifoMapType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "exporter.workflows._fifo_ids.FifoMap",
    .tp_doc = "FifoMap(capacity, seed): a value for each of the last `capacity` ids.",
    .tp_basicsize = sizeof(FifoMap),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = FifoMap_new,
    .tp_dealloc = (destructor)FifoMap_dealloc,
    .tp_traverse = (traverseproc)FifoMap_traverse,
    .tp_clear = (inquiry)FifoMap_clear,
    .tp_methods = FifoMap_methods,
    .tp_as_sequence = &FifoMap_as_sequence,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "exporter.workflows._fifo_ids",
    "Windows of recent ids held in C memory (see the source's header).", -1, NULL,
};

static int add_type(PyObject *created, const char *name, PyTypeObject *type) {
    if (PyType_Ready(type) < 0)
        return -1;
    Py_INCREF(type);
    if (PyModule_AddObject(created, name, (PyObject *)type) < 0) {
        Py_DECREF(type);
        return -1;
    }
    return 0;
}

PyMODINIT_FUNC PyInit__fifo_ids(void) {
    PyObject *created = PyModule_Create(&module);
    if (created == NULL)
        return NULL;
    if (add_type(created, "FifoIds", &FifoIdsType) < 0 ||
        add_type(created, "FifoMap", &FifoMapType) < 0) {
        Py_DECREF(created);
        return NULL;
    }
    return created;
}
