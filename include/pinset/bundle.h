/*
 * pinset/bundle.h - load certificates, keys and CSRs from PEM, DER or PKCS#12.
 *
 * The format is detected from the content, never from a file name. A bundle
 * holds every object found in one input, in order; each object gives its
 * description and its pins.
 *
 * Caveats: loading does not validate anything beyond syntax: no signature,
 * date, name or revocation check.
 */
#ifndef PINSET_BUNDLE_H
#define PINSET_BUNDLE_H

#include <pinset/common.h>
#include <pinset/error.h>
#include <pinset/pin.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pinset_bundle pinset_bundle;
typedef struct pinset_object pinset_object;

/** What an object is. */
typedef enum pinset_object_type {
    PINSET_OBJ_CERT = 1,    /**< an X.509 certificate */
    PINSET_OBJ_PUBKEY = 2,  /**< a public key (PUBLIC KEY or RSA PUBLIC KEY) */
    PINSET_OBJ_PRIVKEY = 3, /**< a private key: only its public half is kept */
    PINSET_OBJ_CSR = 4      /**< a PKCS#10 certificate request */
} pinset_object_type;

/**
 * Do the least work that gives pins: certificates are not fully parsed, so
 * they have no subject, issuer, key description, validity, CA flag or X509
 * (their pins and DER are the same as in a full load).
 */
#define PINSET_LOAD_PINS_ONLY 0x1u

#define PINSET_LOAD_OPTS_VERSION 1
/**
 * Options for loading. Initialise with PINSET_LOAD_OPTS_INIT.
 * The passphrase is borrowed for the duration of the call only.
 */
typedef struct pinset_load_opts {
    unsigned int version;
    unsigned int flags;     /**< PINSET_LOAD_* */
    const char *passphrase; /**< for encrypted keys and PKCS#12; NULL for none */
    size_t passphrase_len;
    size_t max_input; /**< bytes; 0 = the library default (64 MiB) */
} pinset_load_opts;
#define PINSET_LOAD_OPTS_INIT                   \
    {                                           \
        PINSET_LOAD_OPTS_VERSION, 0, NULL, 0, 0 \
    }

/**
 * Parse every object in a buffer (PEM with any number of blocks, one DER
 * object, or PKCS#12).
 *
 * PEM labels: CERTIFICATE, X509 CERTIFICATE, TRUSTED CERTIFICATE, PUBLIC KEY,
 * RSA PUBLIC KEY, PRIVATE KEY, RSA PRIVATE KEY, EC PRIVATE KEY, ENCRYPTED
 * PRIVATE KEY, CERTIFICATE REQUEST, NEW CERTIFICATE REQUEST. Any other label
 * (X509 CRL, PARAMETERS...) fails with PINSET_E_UNSUPPORTED naming the label
 * and object, rather than being skipped. Text outside blocks is ignored.
 * Every DER object must be DER (no BER, no trailing bytes). A PKCS#12 gives
 * its certificates (the key's own first), then the public half of its key.
 * An encrypted key without a passphrase, or with a wrong one, fails with
 * PINSET_E_PASSPHRASE; pinset never prompts.
 *
 * @param out  receives the bundle
 * @param buf,len the input
 * @param opts optional (NULL for defaults)
 * @param diag optional detail: the reason in diag->message; the failing
 *             object's 0-based index in diag->object, its PEM label in
 *             diag->label, its line in diag->line; diag->input is left as the
 *             caller set it (name the buffer before the call)
 * @return PINSET_OK, PINSET_E_INVALID_ARG, PINSET_E_NOMEM, PINSET_E_PARSE,
 *         PINSET_E_UNSUPPORTED, PINSET_E_LIMIT, PINSET_E_PASSPHRASE, PINSET_E_CRYPTO
 * Ownership: the caller frees *out with pinset_bundle_free.
 * Thread-safety: safe.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_bundle_parse(pinset_bundle **out, const uint8_t *buf,
                                                            size_t len,
                                                            const pinset_load_opts *opts,
                                                            pinset_diag *diag);

/**
 * Read a file with a size bound and parse it. The path is always a path:
 * "-" names a file called "-" (reading standard input is the caller's
 * business; read it and call pinset_bundle_parse). Directories, devices and
 * sockets are refused without being opened; a regular file larger than
 * the bound is refused before reading. A FIFO is read without blocking
 * on open, so a FIFO with no writer is an empty input; pipes are read with
 * poll() and fail with PINSET_E_IO when no end of input comes within 30 s.
 *
 * @param diag optional detail, as pinset_bundle_parse; diag->input is set to
 *             path (borrowed) for every failure after the argument checks
 * @return as pinset_bundle_parse, plus PINSET_E_IO
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_bundle_read_file(pinset_bundle **out,
                                                                const char *path,
                                                                const pinset_load_opts *opts,
                                                                pinset_diag *diag);

/** Free a bundle and wipe any key material. NULL is a no-op. */
PINSET_API void pinset_bundle_free(pinset_bundle *bundle);

/** Number of objects. */
PINSET_API size_t pinset_bundle_count(const pinset_bundle *bundle);

/**
 * The i-th object (0-based).
 * @return borrowed; valid until the bundle is freed; NULL when out of range
 */
PINSET_API const pinset_object *pinset_bundle_get(const pinset_bundle *bundle, size_t i);

/** The object's type. */
PINSET_API pinset_object_type pinset_object_get_type(const pinset_object *obj);

/**
 * Compute the object's pin. Only certificates have a `cert` pin.
 * @return PINSET_OK, PINSET_E_INVALID_ARG, PINSET_E_UNSUPPORTED, PINSET_E_CRYPTO
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_object_pin(pinset_pin *out, const pinset_object *obj,
                                                          pinset_pin_kind kind);

/**
 * Subject / issuer in RFC 2253 form (certificates; subject also for CSRs).
 * @return borrowed, valid until the bundle is freed; NULL when not applicable
 *         or when loaded with PINSET_LOAD_PINS_ONLY
 */
PINSET_API const char *pinset_object_subject(const pinset_object *obj);
PINSET_API const char *pinset_object_issuer(const pinset_object *obj);

/**
 * Key algorithm, e.g. "RSA", "RSA-PSS", "EC", "ED25519", "ED448", and for
 * EC the curve in pinset_object_key_group ("P-256").
 * @return borrowed static or bundle-owned strings; NULL when unknown
 */
PINSET_API const char *pinset_object_key_type(const pinset_object *obj);
PINSET_API const char *pinset_object_key_group(const pinset_object *obj);
/** Key size in bits; 0 when unknown. */
PINSET_API unsigned int pinset_object_key_bits(const pinset_object *obj);
/** 1 for a certificate whose basicConstraints says CA, else 0. */
PINSET_API int pinset_object_is_ca(const pinset_object *obj);
/**
 * Validity in seconds since the epoch (certificates only).
 * @return PINSET_OK or PINSET_E_UNSUPPORTED
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_object_validity(const pinset_object *obj,
                                                               int64_t *not_before_out,
                                                               int64_t *not_after_out);
/**
 * The object's DER (certificate, or SubjectPublicKeyInfo for keys and CSRs).
 * @return borrowed; valid until the bundle is freed
 */
PINSET_API const uint8_t *pinset_object_der(const pinset_object *obj, size_t *len_out);

#ifdef __cplusplus
}
#endif

#endif /* PINSET_BUNDLE_H */
