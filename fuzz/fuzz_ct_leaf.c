/*
 * fuzz_ct_leaf.c - the Certificate Transparency entry parser of the tool
 * (src/ct/leaf.c): ct_leaf_parse (a MerkleTreeLeaf), ct_extra_data_check and
 * ct_cert_walk (the DER walk of a Certificate or TBSCertificate to its SPKI
 * and names) on the entry's certificate, and on the raw input as both; and
 * ct_tile_leaf_next (src/ct/tiles.c) over the input as a static-CT data tile. No
 * crash, no read outside the input, every span it returns inside the input.
 * Seeds: fuzz/corpus/ct_leaf/ (x509 and precert leaves of test certificates).
 */
#include <stdint.h>
#include <stdlib.h>

#include "ct/leaf.h"
#include "ct/tiles.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct span {
    const uint8_t *lo, *hi;
};

static int inside(const uint8_t *p, size_t n, const struct span *s)
{
    return p >= s->lo && p <= s->hi && n <= (size_t)(s->hi - p);
}

static int on_name(const char *name, size_t len, int from_cn, void *payload)
{
    (void)from_cn;
    if (!inside((const uint8_t *)name, len, payload)) {
        abort();
    }
    return 0;
}

static void walk(const uint8_t *der, size_t len, int is_tbs)
{
    struct span s = {der, der + len};
    const uint8_t *spki = NULL;
    size_t spki_len = 0;
    char err[128];

    if (ct_cert_walk(der, len, is_tbs, &spki, &spki_len, on_name, &s, err, sizeof(err)) == 0 &&
        (spki == NULL || !inside(spki, spki_len, &s) || spki_len < 2 || spki[0] != 0x30)) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct span s = {data, data + size};
    char err[128];
    ct_leaf leaf, leaf_tmp;

    if (data == NULL) {
        return 0;
    }
    if (ct_leaf_parse(&leaf, data, size, err, sizeof(err)) == 0) {
        if (!inside(leaf.der, leaf.der_len, &s) ||
            (leaf.type == CT_ENTRY_PRECERT && !inside(leaf.issuer_key_hash, 32, &s))) {
            abort();
        }
        walk(leaf.der, leaf.der_len, leaf.type == CT_ENTRY_PRECERT);
    }
    (void)ct_extra_data_check(CT_ENTRY_X509, data, size, err, sizeof(err));
    (void)ct_extra_data_check(CT_ENTRY_PRECERT, data, size, err, sizeof(err));
    walk(data, size, 0);
    walk(data, size, 1);
    for (size_t off = 0; off < size;) {
        uint8_t *leaf = NULL;
        size_t len = 0, before = off;

        if (ct_tile_leaf_next(data, size, &off, &leaf, &len, err, sizeof(err)) != 0) {
            break;
        }
        if (off <= before || off > size || len < 2 ||
            ct_leaf_parse(&leaf_tmp, leaf, len, err, sizeof(err)) != 0) {
            abort(); /* a TileLeaf always stands for a MerkleTreeLeaf that parses */
        }
        free(leaf);
    }
    return 0;
}
