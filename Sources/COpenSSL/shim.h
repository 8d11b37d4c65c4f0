// COpenSSL: HMAC-SHA256 and SHA-256 from libcrypto. No workaround needed beyond the includes.
#ifndef PUS_COPENSSL_SHIM_H
#define PUS_COPENSSL_SHIM_H
#include <openssl/hmac.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/crypto.h>
#endif
