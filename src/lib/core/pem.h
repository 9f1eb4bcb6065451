/*
 * pem.h - a strict, bounded PEM block scanner (RFC 7468 textual encoding)
 * and base64 body decoder, plus test hooks of the loading module
 * (bundle.c). Internal; not installed.
 *
 * The scanner walks an input line by line. Text outside blocks (as written
 * by `openssl x509 -text`) is skipped; inside a block every line is checked.
 * Rules: a line is at most PINSET_MAX_PEM_LINE bytes (LF or CRLF line ends,
 * the last line may lack its newline); no NUL byte anywhere; BEGIN and END
 * labels match; a block without an END line is an error; body characters
 * are the base64 alphabet, '=' and blanks. RFC 1421 headers ("Proc-Type:",
 * "DEK-Info:") are allowed at the start of a block, ended by a blank line.
 */
#ifndef PINSET_PEM_H
#define PINSET_PEM_H

#include <stddef.h>
#include <stdint.h>

#include <pinset/error.h>

/* Longest accepted label ("NEW CERTIFICATE REQUEST" is 23). */
#define PINSET_PEM_MAX_LABEL 64

/* One block found by the scanner; every pointer points into the input. */
struct pinset_pem_block {
    const char *label; /* not NUL-terminated */
    size_t label_len;
    const uint8_t *body;  /* first byte after the headers (or after the BEGIN line) */
    size_t body_len;      /* up to the start of the END line */
    const uint8_t *start; /* the BEGIN line ... */
    size_t total_len;     /* ... through the END line (without its newline) */
    size_t line;          /* 1-based line number of the BEGIN line */
    size_t body_line;     /* line number of the first body line */
    size_t offset;        /* byte offset of the BEGIN line */
    int has_headers;      /* RFC 1421 headers were present */
    int encrypted;        /* a "Proc-Type: 4,ENCRYPTED" header was present */
};

struct pinset_pem_scan {
    const uint8_t *buf;
    size_t len;
    size_t pos;        /* start of the next line */
    size_t line;       /* number of the next line (1-based) */
    size_t blocks;     /* blocks returned so far = index of the next block */
    const char *label; /* the label of the block being scanned, for messages; NULL outside */
    size_t label_len;
};

/* True when some line of buf starts with "-----BEGIN " (the input is PEM). */
int pinset__pem_detect(const uint8_t *buf, size_t len);

void pinset__pem_scan_init(struct pinset_pem_scan *s, const uint8_t *buf, size_t len);

/*
 * Find the next block. On PINSET_OK *found is 1 and blk is filled, or 0 at
 * the end of the input. Errors name the block index (diag->object) and the
 * line: PINSET_E_PARSE (malformed line, label mismatch, missing END, bad
 * character, NUL byte) or PINSET_E_LIMIT (line or label too long).
 */
pinset_err pinset__pem_next(struct pinset_pem_scan *s, struct pinset_pem_block *blk, int *found,
                            pinset_diag *diag);

/*
 * Decode a block's base64 body (strict: length a multiple of 4, '=' only as
 * the final one or two characters) into a new buffer of at most max_out
 * bytes. The caller releases *out with pinset__wipe_free(*out, *len_out).
 * Returns PINSET_OK, PINSET_E_PARSE, PINSET_E_LIMIT or PINSET_E_NOMEM.
 */
pinset_err pinset__pem_decode(uint8_t **out, size_t *len_out, const struct pinset_pem_block *blk,
                              size_t index, size_t max_out, pinset_diag *diag);

#ifdef PINSET_TESTING
/* Test builds only: the FIFO / standard-input read time limit of bundle.c (0 = default 30 s). */
void pinset__bundle_set_read_timeout_ms(long ms);
#endif

#endif /* PINSET_PEM_H */
