// COpenSSL: the libcrypto surface pus-mount uses (HMAC-SHA256 for request signing, MD5 for Content-MD5,
// SHA-256 for the tests' oracle), resolved with dlopen(3) on first use instead of linked.
//
// Workaround, deliberate: a warm attach, a detach or a status signs no request, yet a linked libcrypto is
// mapped and relocated at every exec. Like libcurl (CCurl), it is opened when the first digest is taken.
// Loading is thread-safe (pthread_once): requests to several accounts are signed on several threads.
// Every symbol here is prefixed pus_ssl_.
#ifndef PUS_COPENSSL_SHIM_H
#define PUS_COPENSSL_SHIM_H
#include <dlfcn.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stddef.h>

struct pus_ssl_api {
    int loaded;
    const char *error;
    __typeof__(HMAC) *hmac;
    __typeof__(EVP_sha256) *evp_sha256;
    __typeof__(EVP_md5) *evp_md5;
    __typeof__(EVP_Digest) *evp_digest;
    __typeof__(SHA256) *sha256;
    __typeof__(EVP_MD_CTX_new) *ctx_new;
    __typeof__(EVP_MD_CTX_free) *ctx_free;
    __typeof__(EVP_DigestInit_ex) *digest_init;
    __typeof__(EVP_DigestUpdate) *digest_update;
    __typeof__(EVP_DigestFinal_ex) *digest_final;
};

/// The resolved entry points (a function-local static: Swift's importer does not emit a header's statics).
static inline struct pus_ssl_api *pus_ssl_table(void) {
    static struct pus_ssl_api table;
    return &table;
}

static inline void pus_ssl_load_once(void) {
    struct pus_ssl_api *a = pus_ssl_table();
    void *h = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
    if (!h) { a->error = dlerror(); return; }
#define PUS_SSL_SYM(field, name) *(void **)(&a->field) = dlsym(h, name); if (!a->field) { a->error = dlerror(); return; }
    PUS_SSL_SYM(hmac, "HMAC")
    PUS_SSL_SYM(evp_sha256, "EVP_sha256")
    PUS_SSL_SYM(evp_md5, "EVP_md5")
    PUS_SSL_SYM(evp_digest, "EVP_Digest")
    PUS_SSL_SYM(sha256, "SHA256")
    PUS_SSL_SYM(ctx_new, "EVP_MD_CTX_new")
    PUS_SSL_SYM(ctx_free, "EVP_MD_CTX_free")
    PUS_SSL_SYM(digest_init, "EVP_DigestInit_ex")
    PUS_SSL_SYM(digest_update, "EVP_DigestUpdate")
    PUS_SSL_SYM(digest_final, "EVP_DigestFinal_ex")
#undef PUS_SSL_SYM
    a->loaded = 1;
}

/// Opens libcrypto.so.3 once (any thread); 0 when every entry point resolved, else -1 (pus_ssl_load_error).
static inline int pus_ssl_load(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, pus_ssl_load_once);
    return pus_ssl_table()->loaded ? 0 : -1;
}

/// Why the load failed (dlerror's text), or NULL.
static inline const char *pus_ssl_load_error(void) { return pus_ssl_table()->error; }

/// HMAC-SHA256 of `data` with `key`; `out` holds EVP_MAX_MD_SIZE bytes. The digest length, 0 on failure.
static inline unsigned int pus_ssl_hmac_sha256(const void *key, int key_len, const unsigned char *data, size_t len, unsigned char *out) {
    if (pus_ssl_load() != 0) return 0;
    unsigned int n = 0;
    struct pus_ssl_api *a = pus_ssl_table();
    return a->hmac(a->evp_sha256(), key, key_len, data, len, out, &n) ? n : 0;
}

/// MD5 of `data` (Content-MD5; not for security); `out` holds EVP_MAX_MD_SIZE bytes. Length, 0 on failure.
static inline unsigned int pus_ssl_md5(const void *data, size_t len, unsigned char *out) {
    if (pus_ssl_load() != 0) return 0;
    unsigned int n = 0;
    struct pus_ssl_api *a = pus_ssl_table();
    return a->evp_digest(data, len, out, &n, a->evp_md5(), NULL) == 1 ? n : 0;
}

/// An MD5 digest fed in pieces (a blob's Content-MD5 over a file larger than memory); NULL on failure.
static inline void *pus_ssl_md5_begin(void) {
    if (pus_ssl_load() != 0) return NULL;
    struct pus_ssl_api *a = pus_ssl_table();
    EVP_MD_CTX *c = a->ctx_new();
    if (c && a->digest_init(c, a->evp_md5(), NULL) != 1) { a->ctx_free(c); return NULL; }
    return c;
}

/// Feeds `len` bytes; 1 on success.
static inline int pus_ssl_md5_update(void *ctx, const void *data, size_t len) {
    if (pus_ssl_load() != 0) return 0;
    return pus_ssl_table()->digest_update((EVP_MD_CTX *)ctx, data, len);
}

/// Writes the digest to `out` (EVP_MAX_MD_SIZE bytes) and frees the context; the length, 0 on failure.
static inline unsigned int pus_ssl_md5_end(void *ctx, unsigned char *out) {
    if (pus_ssl_load() != 0) return 0;
    unsigned int n = 0;
    struct pus_ssl_api *a = pus_ssl_table();
    int ok = a->digest_final((EVP_MD_CTX *)ctx, out, &n);
    a->ctx_free((EVP_MD_CTX *)ctx);
    return ok == 1 ? n : 0;
}

/// libcrypto's SHA256() (the tests' oracle for the Swift implementation); 0 on failure, else 32.
static inline unsigned int pus_ssl_sha256(const unsigned char *data, size_t len, unsigned char *out) {
    if (pus_ssl_load() != 0) return 0;
    return pus_ssl_table()->sha256(data, len, out) ? 32 : 0;
}

/// EVP_MAX_MD_SIZE as a function (a macro expression Swift may not import).
static inline int pus_ssl_max_md_size(void) { return EVP_MAX_MD_SIZE; }
#endif
