/*
 * suggest.c - the nearest known word to a mistyped one (see suggest.h).
 */
#include "suggest.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>

static int same(char x, char y)
{
    return tolower((unsigned char)x) == tolower((unsigned char)y);
}

static size_t min3(size_t a, size_t b, size_t c)
{
    size_t m = a < b ? a : b;
    return m < c ? m : c;
}

size_t suggest_distance(const char *a, size_t alen, const char *b, size_t blen, size_t cap)
{
    /* Three rows of the optimal-string-alignment table: two back, one back, this one. */
    size_t rows[3][SUGGEST_MAX_LEN + 1];
    size_t *pp = rows[0], *prev = rows[1], *cur = rows[2];

    if (alen > SUGGEST_MAX_LEN || blen > SUGGEST_MAX_LEN) {
        return SIZE_MAX;
    }
    if ((alen > blen ? alen - blen : blen - alen) > cap) {
        return SIZE_MAX;
    }
    for (size_t j = 0; j <= blen; j++) {
        prev[j] = j;
    }
    for (size_t i = 1; i <= alen; i++) {
        size_t row_min;

        cur[0] = i;
        row_min = cur[0];
        for (size_t j = 1; j <= blen; j++) {
            size_t cost = same(a[i - 1], b[j - 1]) ? 0 : 1;
            size_t d = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);

            if (i > 1 && j > 1 && same(a[i - 1], b[j - 2]) && same(a[i - 2], b[j - 1]) &&
                pp[j - 2] + 1 < d) {
                d = pp[j - 2] + 1; /* two neighbours swapped */
            }
            cur[j] = d;
            if (d < row_min) {
                row_min = d;
            }
        }
        if (row_min > cap) {
            return SIZE_MAX; /* every path is already too far */
        }
        size_t *t = pp;
        pp = prev;
        prev = cur;
        cur = t;
    }
    return prev[blen] <= cap ? prev[blen] : SIZE_MAX;
}

void suggest_init(suggest *s, const char *word, size_t wlen, size_t max_edits)
{
    s->word = word;
    s->wlen = wlen;
    s->max_edits = max_edits != 0 ? max_edits : wlen <= 5 ? 1 : 2;
    s->best = NULL;
    s->best_edits = SIZE_MAX;
}

void suggest_offer(suggest *s, const char *cand)
{
    size_t clen = strlen(cand);
    size_t d = suggest_distance(s->word, s->wlen, cand, clen, s->max_edits);

    if (d == SIZE_MAX || d >= s->best_edits ||
        (clen == s->wlen && memcmp(cand, s->word, clen) == 0)) {
        return;
    }
    s->best = cand;
    s->best_edits = d;
}

const char *suggest_result(const suggest *s)
{
    return s->best;
}
