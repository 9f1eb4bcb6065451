/*
 * pinset/pin.h - pin values: compute, parse every text form, format.
 *
 * A pin is SHA-256 over either the DER SubjectPublicKeyInfo of a key (`spki`,
 * the default: it survives certificate renewal with the same key) or the whole
 * DER certificate (`cert`). Pins are compared as 32 raw bytes in constant time.
 *
 * Caveats: a pin says nothing about validity; computing one does not validate
 * a certificate's signature, dates or name.
 */
#ifndef PINSET_PIN_H
#define PINSET_PIN_H

#include <pinset/common.h>
#include <pinset/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Length of a pin's raw digest (SHA-256). */
#define PINSET_PIN_LEN 32
/** Buffer size that holds any formatted pin, including the NUL. */
#define PINSET_PIN_STR_MAX 128

/** What a pin's digest covers. */
typedef enum pinset_pin_kind {
    PINSET_PIN_SPKI = 0, /**< SHA-256 of the DER SubjectPublicKeyInfo */
    PINSET_PIN_CERT = 1  /**< SHA-256 of the whole DER certificate */
} pinset_pin_kind;

/** Text forms of a pin. */
typedef enum pinset_pin_fmt {
    PINSET_PIN_FMT_BASE64 = 0,   /**< RFC 7469 base64 of the 32 bytes */
    PINSET_PIN_FMT_HPKP = 1,     /**< pin-sha256="base64" (RFC 7469 section 2.1.1) */
    PINSET_PIN_FMT_CURL = 2,     /**< sha256//base64 (CURLOPT_PINNEDPUBLICKEY) */
    PINSET_PIN_FMT_OKHTTP = 3,   /**< sha256/base64 (OkHttp CertificatePinner) */
    PINSET_PIN_FMT_HEX = 4,      /**< 64 lower-case hex digits */
    PINSET_PIN_FMT_HEX_COLON = 5 /**< upper-case hex pairs joined by ':' (openssl -c style) */
} pinset_pin_fmt;

/**
 * A pin: a plain value, freely copied. Its layout is fixed for the life of
 * the major version.
 */
typedef struct pinset_pin {
    uint8_t sha256[PINSET_PIN_LEN];
    pinset_pin_kind kind;
} pinset_pin;

/**
 * The buffer size that holds any formatted pin, as PINSET_PIN_STR_MAX.
 * @return PINSET_PIN_STR_MAX
 */
PINSET_API size_t pinset_pin_str_max(void);

/**
 * Parse one pin in any text form: RFC 7469 base64, `sha256/...` (OkHttp),
 * `sha256//...` (curl), `pin-sha256="..."` (HPKP), 64 hex digits with or
 * without ':' separators. Surrounding ASCII whitespace is ignored. Pins of
 * other digests (sha1, md5, sha224, sha384, sha512, sha3-*, in the `ALG/`,
 * `ALG//` and `pin-ALG="..."` forms) are recognised and refused with
 * PINSET_E_UNSUPPORTED naming the algorithm.
 *
 * Base64 must be canonical RFC 4648 base64 of exactly 32 bytes (44 characters,
 * one '=', zero unused bits); base64url, missing or extra padding, inner
 * whitespace and other digest lengths are errors. Text longer than 512 bytes
 * is refused with PINSET_E_LIMIT without being read. 44 characters of the
 * base64 alphabet are always read as a bare digest, even when they begin
 * like a prefix (`sha256//...`).
 *
 * @param out  receives the pin; its kind is set to `kind`
 * @param text the text (need not be NUL-terminated; an embedded NUL is an error)
 * @param len  its length in bytes
 * @param kind the kind the caller knows the digest to be (text forms do not say)
 * @param diag optional detail
 * @return PINSET_OK, PINSET_E_INVALID_ARG, PINSET_E_PARSE, PINSET_E_UNSUPPORTED, PINSET_E_LIMIT
 * Ownership: nothing retained.
 * Thread-safety: safe.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_pin_parse(pinset_pin *out, const char *text,
                                                         size_t len, pinset_pin_kind kind,
                                                         pinset_diag *diag);

/**
 * Parse a list of pins separated by ';' (curl's CURLOPT_PINNEDPUBLICKEY list,
 * e.g. `sha256//A;sha256//B`), each element in any form pinset_pin_parse takes.
 *
 * @param out       array receiving the pins
 * @param cap       its capacity
 * Surrounding whitespace of each element is ignored; an empty element (as in
 * `A;;B` or a trailing ';') is an error; at most 64 pins.
 *
 * @param out       array receiving the pins (may be NULL when cap is 0)
 * @param cap       its capacity
 * @param count_out receives the number of pins parsed; 0 on error, except on
 *                  PINSET_E_BUFFER_TOO_SMALL where it is the number of pins the
 *                  whole list holds (the first `cap` are stored in `out`)
 * @param text,len  the list
 * @param kind      as for pinset_pin_parse
 * @param diag      optional detail; diag->object is the failing element's index
 * @return as pinset_pin_parse, plus PINSET_E_BUFFER_TOO_SMALL
 * Ownership: nothing retained.
 * Thread-safety: safe.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_pin_parse_list(pinset_pin *out, size_t cap,
                                                              size_t *count_out, const char *text,
                                                              size_t len, pinset_pin_kind kind,
                                                              pinset_diag *diag);

/**
 * Format a pin. On PINSET_E_BUFFER_TOO_SMALL `buf` holds the empty string.
 *
 * @param buf,cap output buffer; PINSET_PIN_STR_MAX always suffices
 * @param pin     the pin
 * @param fmt     the form
 * @return PINSET_OK, PINSET_E_INVALID_ARG, PINSET_E_BUFFER_TOO_SMALL
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_pin_format(char *buf, size_t cap,
                                                          const pinset_pin *pin,
                                                          pinset_pin_fmt fmt);

/**
 * Compare two pins in constant time over the digest.
 * @return 1 when kind and digest are equal, else 0 (also when either is NULL)
 */
PINSET_API int pinset_pin_equal(const pinset_pin *a, const pinset_pin *b);

/**
 * Compute an spki pin over a DER SubjectPublicKeyInfo. The DER must be one
 * complete, well-formed SubjectPublicKeyInfo that OpenSSL can decode.
 *
 * @return PINSET_OK, PINSET_E_INVALID_ARG, PINSET_E_PARSE, PINSET_E_LIMIT, PINSET_E_CRYPTO
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_pin_from_spki_der(pinset_pin *out,
                                                                 const uint8_t *der, size_t len,
                                                                 pinset_diag *diag);

/**
 * Compute a pin over one DER certificate, with OpenSSL's full certificate parser.
 * The spki pin hashes the certificate's own SubjectPublicKeyInfo bytes.
 *
 * @return PINSET_OK, PINSET_E_INVALID_ARG, PINSET_E_PARSE, PINSET_E_LIMIT, PINSET_E_CRYPTO
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_pin_from_cert_der(pinset_pin *out,
                                                                 const uint8_t *der, size_t len,
                                                                 pinset_pin_kind kind,
                                                                 pinset_diag *diag);

#ifdef __cplusplus
}
#endif

#endif /* PINSET_PIN_H */
