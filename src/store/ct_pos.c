/*
 * ct_pos.c - a ct_store on the tool's store (see ct_pos.h).
 */
#include "store/ct_pos.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hex.h"

typedef struct db_ct_store {
    ct_store base;
    store *db;
} db_ct_store;

static int db_load(ct_store *s, const uint8_t log_id[CT_HASH_LEN], ct_position *out, char *err,
                   size_t errcap)
{
    db_ct_store *d = (db_ct_store *)s;
    char id[2 * CT_HASH_LEN + 1], *buf = malloc(CT_POSITION_TEXT_MAX);
    size_t len = 0;
    int rc;

    if (buf == NULL) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    pinset__hex_encode(id, log_id, CT_HASH_LEN);
    rc = d->db->ops->ct_pos_load(d->db, id, buf, CT_POSITION_TEXT_MAX, &len, err, errcap);
    if (rc == 1 && ct_position_parse(out, buf, len) != 0) {
        snprintf(err, errcap,
                 "store: ct_positions row of log %s: not a CT position written by pinset (or "
                 "damaged)",
                 id);
        rc = -1;
    }
    free(buf);
    return rc;
}

static int db_save(ct_store *s, const uint8_t log_id[CT_HASH_LEN], const ct_position *pos,
                   char *err, size_t errcap)
{
    db_ct_store *d = (db_ct_store *)s;
    char id[2 * CT_HASH_LEN + 1], *buf = malloc(CT_POSITION_TEXT_MAX);
    int rc = -1;

    if (buf == NULL) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    pinset__hex_encode(id, log_id, CT_HASH_LEN);
    if (ct_position_format(buf, CT_POSITION_TEXT_MAX, pos) != 0) {
        snprintf(err, errcap, "cannot format the position of log %s", id);
    } else {
        rc = d->db->ops->ct_pos_save(d->db, id, buf, err, errcap);
    }
    free(buf);
    return rc;
}

static void db_free(ct_store *s)
{
    free(s);
}

int ct_store_db_open(ct_store **out, store *db, char *err, size_t errcap)
{
    db_ct_store *d;

    *out = NULL;
    if (db == NULL || !store_ct_ready(db)) {
        snprintf(err, errcap, "the store keeps no CT positions");
        return -1;
    }
    d = calloc(1, sizeof(*d));
    if (d == NULL) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    d->db = db;
    d->base.load = db_load;
    d->base.save = db_save;
    d->base.free = db_free;
    *out = &d->base;
    return 0;
}
