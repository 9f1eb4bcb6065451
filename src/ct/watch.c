/*
 * watch.c - one pass over a CT log (see watch.h).
 */
#include "ct/watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct/client.h"
#include "ct/tiles.h"
#include "util/base.h"
#include "util/read.h"

struct pass {
    const ct_watch_opts *o;
    ct_event_cb cb;
    void *payload;
    ct_watch_result *res;
    uint64_t index;
    const ct_leaf *leaf;
};

static void misbehaved(struct pass *p, const char *alert, const char *detail)
{
    ct_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.kind = CT_EV_MISBEHAVED;
    ev.alert = alert;
    ev.detail = detail;
    p->cb(&ev, p->payload);
}

static int on_finding(const ct_finding *f, void *payload)
{
    struct pass *p = payload;
    ct_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.kind = CT_EV_FINDING;
    ev.alert = f->kind;
    ev.index = p->index;
    ev.leaf = p->leaf;
    ev.finding = f;
    p->cb(&ev, p->payload);
    return 0;
}

static void one_entry(struct pass *p, uint64_t index, const ct_raw_entry *raw)
{
    char why[256] = "";
    ct_leaf leaf;
    ct_event ev;
    int watched = 0, n;

    if (ct_leaf_parse(&leaf, raw->leaf, raw->leaf_len, why, sizeof(why)) == 0 &&
        (raw->extra == NULL ||
         ct_extra_data_check(leaf.type, raw->extra, raw->extra_len, why, sizeof(why)) >= 0)) {
        p->index = index;
        p->leaf = &leaf;
        n = ct_check_entry(p->o->check, &leaf, on_finding, p, &watched, why, sizeof(why));
        p->res->watched += watched != 0;
        if (n >= 0) {
            p->res->findings += (uint64_t)n;
            return;
        }
    }
    p->res->unreadable++;
    memset(&ev, 0, sizeof(ev));
    ev.kind = CT_EV_UNREADABLE;
    ev.alert = "unreadable-entry";
    ev.detail = why;
    ev.index = index;
    p->cb(&ev, p->payload);
}

/*
 * The head of the first `old_size` entries of the tree of `new_size`, from its
 * hash tiles: one perfect subtree per set bit of old_size, each the fold of
 * consecutive hashes of one tile (static-ct-api "Merkle Tree").
 */
static int tile_root(ct_client *cl, uint64_t new_size, uint64_t old_size, uint8_t out[CT_HASH_LEN],
                     char *err, size_t errcap)
{
    ct_range r;
    uint8_t *tile = NULL;
    size_t len = 0;
    int level = -1, rc = -1;
    uint64_t have_n = 0, o = 0;

    ct_range_init(&r);
    for (int k = 63; k >= 0; k--) {
        uint64_t idx;
        int l = k / CT_TILE_HEIGHT;

        if (!((old_size >> k) & 1)) {
            continue;
        }
        idx = (o >> k) << (k % CT_TILE_HEIGHT); /* the first hash, at height 8l */
        if (tile == NULL || level != l || have_n != idx / CT_TILE_WIDTH) {
            free(tile);
            tile = NULL;
            level = l;
            have_n = idx / CT_TILE_WIDTH;
            if (ct_client_get_hash_tile(cl, new_size, l, have_n, &tile, &len, err, errcap) != 0) {
                goto out;
            }
        }
        if (ct_tile_subtree(r.hash[r.count], tile, len, (unsigned int)(idx % CT_TILE_WIDTH),
                            1u << (k % CT_TILE_HEIGHT)) != 0) {
            snprintf(err, errcap, "tile %d/%llu: too short for entries %llu..%llu", l,
                     (unsigned long long)have_n, (unsigned long long)o,
                     (unsigned long long)(o + (1ull << k) - 1));
            goto out;
        }
        r.count++;
        o += 1ull << k;
    }
    r.size = old_size;
    rc = ct_range_root(&r, out);
out:
    free(tile);
    return rc;
}

/* The new tree head against the stored one: 0 when it extends it, else the log misbehaved. */
static int check_growth(struct pass *p, ct_client *cl, const ct_position *old, const ct_sth *sth,
                        char *err, size_t errcap)
{
    uint8_t proof[2 * CT_MAX_DEPTH][CT_HASH_LEN];
    char detail[512];
    size_t n = 0;

    if (sth->tree_size < old->sth_size) {
        snprintf(detail, sizeof(detail), "tree_size %llu is smaller than %llu, already verified",
                 (unsigned long long)sth->tree_size, (unsigned long long)old->sth_size);
        misbehaved(p, "log-rewind", detail);
        return -1;
    }
    if (sth->tree_size == old->sth_size) {
        if (memcmp(sth->root, old->sth_root, CT_HASH_LEN) != 0) {
            snprintf(detail, sizeof(detail), "two different roots for tree_size %llu",
                     (unsigned long long)sth->tree_size);
            misbehaved(p, "log-inconsistent", detail);
            return -1;
        }
        return 0;
    }
    if (old->sth_size == 0) {
        return 0;
    }
    if (p->o->api == CT_API_STATIC) {
        uint8_t root[CT_HASH_LEN];

        if (tile_root(cl, sth->tree_size, old->sth_size, root, err, errcap) != 0) {
            return -2;
        }
        if (memcmp(root, old->sth_root, CT_HASH_LEN) != 0) {
            snprintf(detail, sizeof(detail),
                     "the tiles of tree_size %llu do not give the root of tree_size %llu, already "
                     "verified: the log forked",
                     (unsigned long long)sth->tree_size, (unsigned long long)old->sth_size);
            misbehaved(p, "log-inconsistent", detail);
            return -1;
        }
        return 0;
    }
    if (ct_client_get_consistency(cl, old->sth_size, sth->tree_size, proof, 2 * CT_MAX_DEPTH, &n,
                                  err, errcap) != 0) {
        return -2;
    }
    if (!ct_verify_consistency(old->sth_size, sth->tree_size, old->sth_root, sth->root,
                               (const uint8_t(*)[CT_HASH_LEN])proof, n)) {
        snprintf(detail, sizeof(detail),
                 "the consistency proof from tree_size %llu to %llu does not verify (RFC 9162 "
                 "section 2.1.4.2): the log forked",
                 (unsigned long long)old->sth_size, (unsigned long long)sth->tree_size);
        misbehaved(p, "log-inconsistent", detail);
        return -1;
    }
    return 0;
}

/*
 * The position after the batches checked since the last save, when a batch could not be fetched:
 * saved (they were checked whole), else the next pass would check and alert them again, and a log
 * that fails within every save interval would never advance. The fetch's error stays in err
 * unless the save fails.
 */
static int keep_progress(struct pass *p, const ct_position *pos, uint64_t saved, char *err,
                         size_t errcap)
{
    if (pos->range.size == saved) {
        return CT_WATCH_LOG;
    }
    if (p->o->store->save(p->o->store, p->o->key->log_id, pos, err, errcap) != 0) {
        return CT_WATCH_INPUT;
    }
    return CT_WATCH_LOG;
}

/* Fetch and check the entries [pos->range.size, pos->sth_size), saving as it goes. */
static int catch_up(struct pass *p, ct_client *cl, ct_position *pos, char *err, size_t errcap)
{
    int64_t saved_at = pinset__mono_ms();
    uint64_t saved = pos->range.size;

    while (pos->range.size < pos->sth_size) {
        uint64_t start = pos->range.size, end = pos->sth_size - 1;
        ct_batch b;
        uint8_t h[CT_HASH_LEN];

        if (end - start + 1 > p->o->batch) {
            end = start + p->o->batch - 1;
        }
        if ((p->o->api == CT_API_STATIC
                 ? ct_client_get_tile_entries(cl, pos->sth_size, start, end, &b, err, errcap)
                 : ct_client_get_entries(cl, start, end, &b, err, errcap)) != 0) {
            return keep_progress(p, pos, saved, err, errcap);
        }
        for (size_t i = 0; i < b.n; i++) {
            if (ct_leaf_hash(h, b.e[i].leaf, b.e[i].leaf_len) != 0 ||
                ct_range_append(&pos->range, h) != 0) {
                ct_batch_free(&b);
                snprintf(err, errcap, "cannot hash an entry");
                return CT_WATCH_INTERNAL;
            }
            one_entry(p, start + i, &b.e[i]);
        }
        ct_batch_free(&b);
        p->res->end = pos->range.size;
        /*
         * Saved only after whole batches, at most every save_every_ms: a crash checks again
         * what was not saved. (Saving after every batch cost more than reading the entries of
         * a fast log.) The last batch is saved by the caller, once the root is checked.
         */
        if (pos->range.size == pos->sth_size ||
            pinset__mono_ms() - saved_at < (int64_t)p->o->save_every_ms) {
            continue;
        }
        if (p->o->store->save(p->o->store, p->o->key->log_id, pos, err, errcap) != 0) {
            return CT_WATCH_INPUT;
        }
        saved = pos->range.size;
        saved_at = pinset__mono_ms();
    }
    return CT_WATCH_OK;
}

/* The tree head, its signature verified: 0, or -1 (err, or a misbehaviour event). */
static int get_head(struct pass *p, ct_client *cl, ct_sth *sth, char *err, size_t errcap)
{
    char why[512];
    uint8_t *text = NULL;
    size_t len = 0;
    long status = 0;
    int r;

    if (p->o->api == CT_API_RFC6962) {
        if (ct_client_get_sth(cl, sth, err, errcap) != 0) {
            return -1;
        }
        if (!ct_sth_verify(sth, p->o->key, why, sizeof(why))) {
            misbehaved(p, "log-bad-signature", why);
            return -1;
        }
        return 0;
    }
    if (ct_client_get_raw(cl, "checkpoint", &text, &len, &status, err, errcap) != 0) {
        return -1;
    }
    r = ct_checkpoint_verify(sth, text, len, p->o->origin, p->o->key, why, sizeof(why));
    free(text);
    if (r == CT_CP_BAD_SIGNATURE) {
        misbehaved(p, "log-bad-signature", why);
        return -1;
    }
    if (r != CT_CP_OK) {
        snprintf(err, errcap, "%scheckpoint: %s", p->o->url, why);
        return -1;
    }
    return 0;
}

int ct_watch_pass(const ct_watch_opts *o, ct_event_cb cb, void *payload, ct_watch_result *res,
                  char *err, size_t errcap)
{
    struct pass p = {o, cb, payload, res, 0, NULL};
    ct_client *cl = NULL;
    ct_position pos, start;
    ct_sth sth;
    uint8_t root[CT_HASH_LEN];
    char why[512];
    int have, rc = CT_WATCH_LOG;

    memset(res, 0, sizeof(*res));
    have = o->store->load(o->store, o->key->log_id, &pos, err, errcap);
    if (have < 0) {
        return CT_WATCH_INPUT;
    }
    if (ct_client_new(&cl, o->url, o->timeout_ms, err, errcap) != 0) {
        return CT_WATCH_INTERNAL;
    }
    if (get_head(&p, cl, &sth, err, errcap) != 0) {
        goto out;
    }
    res->tree_size = sth.tree_size;
    if (have == 0) {
        memset(&pos, 0, sizeof(pos));
        ct_range_init(&pos.range);
        ct_range_init(&pos.verified); /* the empty tree: nothing to go back past */
        pos.have_verified = 1;
    } else if (check_growth(&p, cl, &pos, &sth, err, errcap) != 0) {
        goto out;
    }
    start = pos;
    res->start = res->end = pos.range.size;
    pos.sth_size = sth.tree_size;
    pos.sth_timestamp = sth.timestamp;
    memcpy(pos.sth_root, sth.root, CT_HASH_LEN);
    /* A verified, consistent tree head is saved at once; the entries follow batch by batch. */
    if (o->store->save(o->store, o->key->log_id, &pos, err, errcap) != 0) {
        rc = CT_WATCH_INPUT;
        goto out;
    }
    rc = catch_up(&p, cl, &pos, err, errcap);
    if (rc != CT_WATCH_OK) {
        goto out;
    }
    if (ct_range_root(&pos.range, root) != 0) {
        rc = CT_WATCH_INTERNAL;
        goto out;
    }
    if (memcmp(root, sth.root, CT_HASH_LEN) != 0) {
        snprintf(why, sizeof(why),
                 "entries %llu..%llu do not make the root of tree_size %llu: the log served "
                 "entries that are not in its tree",
                 (unsigned long long)start.range.size, (unsigned long long)sth.tree_size - 1,
                 (unsigned long long)sth.tree_size);
        misbehaved(&p, "log-bad-entries", why);
        /*
         * Back to the last tree whose root was verified (or, for a position from before that
         * was kept, to where this pass began): the entries are fetched and checked again. Not
         * to `start` when it is known: a pass that failed part-way may have saved entries that
         * are not the log's, and from there no honest entries would ever make the root.
         */
        if (pos.have_verified) {
            pos.range = pos.verified;
        } else {
            pos.range = start.range;
        }
        (void)o->store->save(o->store, o->key->log_id, &pos, err, errcap);
        rc = CT_WATCH_LOG;
    } else if (!pos.have_verified || pos.verified.size != pos.range.size) {
        pos.verified = pos.range;
        pos.have_verified = 1;
        if (o->store->save(o->store, o->key->log_id, &pos, err, errcap) != 0) {
            rc = CT_WATCH_INPUT;
        }
    }
out:
    ct_client_free(cl);
    return rc;
}
