// CCurl: the libcurl surface pus-mount uses. curl_easy_setopt and curl_easy_getinfo are variadic,
// which Swift cannot call; these typed inline wrappers are the only workaround here.
#ifndef PUS_CCURL_SHIM_H
#define PUS_CCURL_SHIM_H
#include <curl/curl.h>

typedef size_t (*pus_curl_data_callback)(char *buffer, size_t size, size_t nitems, void *userdata);

/// curl_easy_setopt with a long argument.
static inline CURLcode pus_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
/// curl_easy_setopt with a curl_off_t argument (sizes of large uploads).
static inline CURLcode pus_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
/// curl_easy_setopt with a C string (copied by libcurl for string options).
static inline CURLcode pus_curl_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
/// curl_easy_setopt with an opaque pointer (WRITEDATA, READDATA, HEADERDATA, HTTPHEADER).
static inline CURLcode pus_curl_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
/// curl_easy_setopt with a data callback (WRITEFUNCTION, READFUNCTION, HEADERFUNCTION).
static inline CURLcode pus_curl_setopt_callback(CURL *h, CURLoption o, pus_curl_data_callback f) { return curl_easy_setopt(h, o, f); }
/// curl_easy_getinfo for long results (CURLINFO_RESPONSE_CODE).
static inline CURLcode pus_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
/// CURL_READFUNC_ABORT is a macro Swift does not import.
static inline size_t pus_curl_readfunc_abort(void) { return CURL_READFUNC_ABORT; }
#endif
