/**
 * @file tls.h  OpenSSL plumbing shared by the SIP and Diameter streams.
 */
#ifndef IMS_NET_TLS_H
#define IMS_NET_TLS_H

#include <openssl/types.h>
#include <stdbool.h>

#include "core/mem.h"

struct sa;

int tls_ctx_alloc(SSL_CTX **ctxp, bool server) IMS_MUST_CHECK;
int tls_ctx_use_cert(SSL_CTX *ctx, const char *cert,
		     const char *key) IMS_MUST_CHECK;
int tls_ctx_use_ca(SSL_CTX *ctx, const char *ca,
		   bool require_cert) IMS_MUST_CHECK;
int tls_ssl_alloc(SSL **sslp, SSL_CTX *ctx, int fd) IMS_MUST_CHECK;
int tls_ssl_set_host(SSL *ssl, const char *host, const struct sa *dst,
		     bool verify) IMS_MUST_CHECK;
bool tls_ssl_names(SSL *ssl, const char *host);
void tls_log_errors(const char *what, const struct sa *peer);
void tls_log_handshake_failure(SSL *ssl, const char *what,
			       const struct sa *peer, bool verify_note);
/* Write a self-signed certificate (EC P-256, SHA-256, 10 years) and its
 * private key (mode 0600) as PEM files.  `cn` is a comma-separated list of
 * host names and IP addresses: the first is the subject CN, all of them go
 * into subjectAltName (DNS: or IP:). */
int tls_selfsigned(const char *certpath, const char *keypath,
		   const char *cn) IMS_MUST_CHECK;

#endif
