/*
 * object_openssl.c - the object getter of pinset/openssl.h:
 * pinset_object_x509.
 */
#include <pinset/openssl.h>

#include "load/load_int.h"

const X509 *pinset_object_x509(const pinset_object *obj)
{
    return obj != NULL ? obj->x509 : NULL;
}
