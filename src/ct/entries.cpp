/*
 * entries.cpp - a get-entries response read with simdjson (see entries.h).
 * The tool's only C++: no exceptions (SIMDJSON_EXCEPTIONS is 0 and the file
 * is built with -fno-exceptions), every simdjson result is checked through
 * its error code, and nothing but plain C types crosses entries.h.
 */
#include "ct/entries.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <simdjson.h>
#include <string_view>

#include <openssl/evp.h>
extern "C" {
#include "ct/sth.h"
}

static_assert(CT_JSON_PADDING == simdjson::SIMDJSON_PADDING, "entries.h's padding is simdjson's");

struct ct_entries_reader {
    simdjson::dom::parser parser;
    explicit ct_entries_reader(size_t max_len) : parser(max_len)
    {
    }
};

int ct_entries_reader_new(ct_entries_reader **out, size_t max_len)
{
    *out = new (std::nothrow) ct_entries_reader(max_len);
    return *out != nullptr ? 0 : -1;
}

void ct_entries_reader_free(ct_entries_reader *r)
{
    delete r;
}

namespace {

/* The two members of an entry that are read. */
struct entry_fields {
    std::string_view leaf, extra;
    int have_leaf = 0, have_extra = 0;
};

/* Find them, each once and a string: nullptr, or the reason the entry is refused. */
const char *read_entry(simdjson::dom::element e, entry_fields *f)
{
    simdjson::dom::object o;

    if (e.get_object().get(o) != simdjson::SUCCESS) {
        return "not an object";
    }
    for (simdjson::dom::key_value_pair kv : o) {
        int *have;
        std::string_view *into;

        if (kv.key == "leaf_input") {
            have = &f->have_leaf;
            into = &f->leaf;
        } else if (kv.key == "extra_data") {
            have = &f->have_extra;
            into = &f->extra;
        } else {
            continue;
        }
        if ((*have)++ != 0) {
            return kv.key == "leaf_input" ? "leaf_input: twice" : "extra_data: twice";
        }
        if (kv.value.get_string().get(*into) != simdjson::SUCCESS) {
            return kv.key == "leaf_input" ? "leaf_input: not a string" : "extra_data: not a string";
        }
    }
    if (!f->have_leaf) {
        return "leaf_input: missing";
    }
    if (!f->have_extra) {
        return "extra_data: missing";
    }
    return nullptr;
}

/* Decode s into the arena at *at; 0, or -1 when s is not strict base64. */
int decode(uint8_t **out, size_t *out_len, uint8_t **at, std::string_view s)
{
    size_t cap = s.size() / 4 * 3;

    if (ct_b64_decode(*at, cap, out_len, s.data(), s.size()) != 0) {
        return -1;
    }
    *out = *at;
    *at += *out_len;
    return 0;
}

} // namespace

int ct_entries_read(ct_entries_reader *r, ct_batch *out, const uint8_t *buf, size_t len,
                    uint64_t first, uint64_t max, char *err, size_t errcap)
{
    simdjson::dom::element root;
    simdjson::dom::object top;
    simdjson::dom::array arr;
    simdjson::error_code ec;
    size_t n = 0, i = 0;
    int seen = 0;
    uint8_t *at;

    std::memset(out, 0, sizeof(*out));
    ec = r->parser.parse(buf, len, false).get(root);
    if (ec != simdjson::SUCCESS) {
        std::snprintf(err, errcap, "get-entries: not JSON (%s)", simdjson::error_message(ec));
        return -1;
    }
    if (root.get_object().get(top) != simdjson::SUCCESS) {
        std::snprintf(err, errcap, "get-entries: not a JSON object");
        return -1;
    }
    for (simdjson::dom::key_value_pair kv : top) {
        if (kv.key != "entries") {
            continue;
        }
        if (seen++ != 0 || kv.value.get_array().get(arr) != simdjson::SUCCESS) {
            seen = -1;
            break;
        }
    }
    if (seen == 1) {
        n = arr.size();
    }
    if (seen != 1 || n == 0 || n > max) {
        std::snprintf(err, errcap,
                      "get-entries %llu..%llu: entries: missing, twice, not an array, empty, or "
                      "more than were asked for",
                      (unsigned long long)first, (unsigned long long)(first + max - 1));
        return -1;
    }
    /* Every decoded byte fits in the document's length: base64 is 4 characters for 3. */
    out->e = static_cast<ct_raw_entry *>(std::calloc(n, sizeof(*out->e)));
    out->arena = static_cast<uint8_t *>(std::malloc(len / 4 * 3 + 1));
    if (out->e == nullptr || out->arena == nullptr) {
        std::snprintf(err, errcap, "out of memory");
        ct_batch_free(out);
        return -1;
    }
    at = out->arena;
    for (simdjson::dom::element e : arr) {
        entry_fields f;
        const char *why = read_entry(e, &f);
        ct_raw_entry *re = &out->e[i];

        if (why == nullptr && decode(&re->leaf, &re->leaf_len, &at, f.leaf) != 0) {
            why = "leaf_input: not base64";
        }
        if (why == nullptr && decode(&re->extra, &re->extra_len, &at, f.extra) != 0) {
            why = "extra_data: not base64";
        }
        if (why != nullptr) {
            std::snprintf(err, errcap, "get-entries: entry %llu: %s",
                          (unsigned long long)(first + i), why);
            ct_batch_free(out);
            return -1;
        }
        out->n = ++i;
    }
    return 0;
}
