/**
 * @file tls.c  OpenSSL plumbing shared by the SIP and Diameter streams.
 *
 * Design (see docs/internals/net-stream.md):
 *
 * SIP (RFC 3261 26.2, RFC 5630) and Diameter (RFC 6733 13) both run TLS
 * over the same non-blocking TCP streams of src/net/tcp.c; what differs is
 * policy (who must present a certificate, which name is checked), so this
 * file offers the mechanisms and each protocol picks:
 *
 * - contexts: TLS 1.2 at least, partial writes and moving write buffers
 *   (a queued write is retried from another address after the queue is
 *   compacted), buffers released when idle;
 * - an SSL object over a small socket BIO that sends with MSG_NOSIGNAL, so
 *   a peer that resets never raises SIGPIPE (the process installs no
 *   handler for it);
 * - the client's server name: SNI only for names, never for literal
 *   addresses (RFC 6066 3), and the name or address checked against the
 *   certificate when a CA is configured;
 * - a self-signed certificate for a first start without a PKI.
 *
 * OpenSSL's error queue is per thread; every failure here is logged and
 * the queue cleared, so that the next call does not report a stale error.
 */
#include "net/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "net/sa.h"

#define LOG_MODULE "tls"


/* errno of the failed call, never 0 (a failure must not read as success) */
static int errno_nz(void)
{
	int e = errno;

	return e > 0 ? e : EIO;
}


/**
 * Log the first OpenSSL error (or errno when the queue is empty) and clear
 * the queue.
 *
 * @param what  what failed
 * @param peer  the remote address, or NULL
 */
void tls_log_errors(const char *what, const struct sa *peer)
{
	char pbuf[SA_STRLEN + 1] = "";
	unsigned long e;
	char ebuf[256];

	if (peer) {
		pbuf[0] = ' ';
		sa_fmt(peer, pbuf + 1, sizeof(pbuf) - 1);
	}
	e = ERR_get_error();
	if (e)
		ERR_error_string_n(e, ebuf, sizeof(ebuf));
	else
		(void)snprintf(ebuf, sizeof(ebuf), "%s", log_strerror(errno));
	LOG_WARN(NULL, "%s%s: %s", what, pbuf, ebuf);
	ERR_clear_error();
}


/**
 * Log a failed handshake: the OpenSSL error and, when asked, why the
 * peer's certificate was not accepted.
 *
 * @param ssl          the connection
 * @param what         prefix of the message
 * @param peer         the remote address
 * @param verify_note  also log a certificate verification failure
 */
void tls_log_handshake_failure(SSL *ssl, const char *what,
			       const struct sa *peer, bool verify_note)
{
	long vr;

	tls_log_errors(what, peer);
	if (!verify_note)
		return;
	vr = SSL_get_verify_result(ssl);
	if (vr != X509_V_OK)
		LOG_WARN(NULL, "certificate verification: %s",
			 X509_verify_cert_error_string(vr));
}


/* ---- a socket BIO that never raises SIGPIPE ---- */

static BIO_METHOD *bio_meth;
static pthread_once_t bio_once = PTHREAD_ONCE_INIT;

static int bio_sock_write(BIO *b, const char *p, int n)
{
	int fd = (int)(intptr_t)BIO_get_data(b);
	ssize_t r;

	BIO_clear_retry_flags(b);
	r = send(fd, p, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (r < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		BIO_set_retry_write(b);
	return (int)r;
}


static int bio_sock_read(BIO *b, char *p, int n)
{
	int fd = (int)(intptr_t)BIO_get_data(b);
	ssize_t r;

	BIO_clear_retry_flags(b);
	r = recv(fd, p, (size_t)n, MSG_DONTWAIT);
	if (r < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		BIO_set_retry_read(b);
	return (int)r;
}


static long bio_sock_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}


static int bio_sock_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}


static void bio_meth_init(void)
{
	BIO_METHOD *m;

	m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
			 "entims socket");
	if (!m)
		return;
	if (!BIO_meth_set_write(m, bio_sock_write) ||
	    !BIO_meth_set_read(m, bio_sock_read) ||
	    !BIO_meth_set_ctrl(m, bio_sock_ctrl) ||
	    !BIO_meth_set_create(m, bio_sock_create)) {
		BIO_meth_free(m);
		return;
	}
	bio_meth = m;
}


/**
 * Create an SSL object over a socket (no direction set yet).
 *
 * @param sslp  receives the object (the caller frees it with SSL_free)
 * @param ctx   client or server context
 * @param fd    connected or accepted non-blocking socket
 * @return 0 or ENOMEM
 */
int tls_ssl_alloc(SSL **sslp, SSL_CTX *ctx, int fd)
{
	SSL *ssl;
	BIO *bio;

	if (!sslp || !ctx || fd < 0)
		return EINVAL;
	(void)pthread_once(&bio_once, bio_meth_init);
	if (!bio_meth)
		return ENOMEM;
	ssl = SSL_new(ctx);
	if (!ssl)
		return ENOMEM;
	bio = BIO_new(bio_meth);
	if (!bio) {
		SSL_free(ssl);
		return ENOMEM;
	}
	BIO_set_data(bio, (void *)(intptr_t)fd);
	SSL_set_bio(ssl, bio, bio); /* one reference, owned by ssl */
	*sslp = ssl;
	return 0;
}


/* ---- contexts ---- */

/**
 * Create a context: TLS 1.2 at least (RFC 6733 13, RFC 8446 D), partial
 * writes, no peer verification until tls_ctx_use_ca().
 *
 * @param ctxp    receives the context (SSL_CTX_free)
 * @param server  server or client method
 * @return 0 or ENOMEM
 */
int tls_ctx_alloc(SSL_CTX **ctxp, bool server)
{
	SSL_CTX *ctx;

	if (!ctxp)
		return EINVAL;
	ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!ctx)
		return ENOMEM;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		SSL_CTX_free(ctx);
		return ENOMEM;
	}
	/* the write queue is compacted between retries: a retried write
	 * may come from another address (MOVING_WRITE_BUFFER) */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				      SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	*ctxp = ctx;
	return 0;
}


/**
 * Load our certificate chain and private key (PEM).
 *
 * @return 0, or EINVAL when a file is unreadable or the key does not match
 */
int tls_ctx_use_cert(SSL_CTX *ctx, const char *cert, const char *key)
{
	if (!ctx || !cert || !key)
		return EINVAL;
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		tls_log_errors("TLS certificate/key unusable", NULL);
		return EINVAL;
	}
	return 0;
}


/**
 * Verify peers against a CA file; without one, peers are not verified.
 *
 * @param ctx           the context
 * @param ca            PEM file of trusted CAs, or NULL
 * @param require_cert  a server refuses clients without a certificate
 *                      (RFC 6733 13.1: mutual authentication)
 * @return 0, or EINVAL when the file cannot be loaded
 */
int tls_ctx_use_ca(SSL_CTX *ctx, const char *ca, bool require_cert)
{
	if (!ctx)
		return EINVAL;
	if (!ca) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		return 0;
	}
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		tls_log_errors("cannot load tls_ca", NULL);
		return EINVAL;
	}
	SSL_CTX_set_verify(
		ctx,
		require_cert ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
			     : SSL_VERIFY_PEER,
		NULL);
	return 0;
}


/**
 * Name the server a client expects.
 *
 * @param ssl     client connection
 * @param host    the name asked for (SNI unless it is a literal address),
 *                or NULL/"" to check the address instead
 * @param dst     the address connected to (checked when host is empty)
 * @param verify  check the name or address against the certificate
 * @return 0 or EINVAL
 */
int tls_ssl_set_host(SSL *ssl, const char *host, const struct sa *dst,
		     bool verify)
{
	struct sa tmp;

	if (!ssl)
		return EINVAL;
	if (host && *host) {
		/* RFC 6066 3: no SNI for literal addresses */
		if (sa_set_str(&tmp, host, 0) != 0 &&
		    SSL_set_tlsext_host_name(ssl, host) != 1)
			return EINVAL;
		if (verify && SSL_set1_host(ssl, host) != 1)
			return EINVAL;
	} else if (verify && dst) {
		char ip[SA_STRLEN];

		sa_ntop(dst, ip, sizeof(ip));
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), ip) != 1)
			return EINVAL;
	}
	return 0;
}


/**
 * Whether the peer's certificate names a host (RFC 6733 13: a Diameter
 * peer's certificate names its DiameterIdentity).
 *
 * @return true when it does; false without a certificate
 */
bool tls_ssl_names(SSL *ssl, const char *host)
{
	X509 *x;

	if (!ssl || !host)
		return false;
	x = SSL_get0_peer_certificate(ssl);
	return x && X509_check_host(x, host, 0, 0, NULL) == 1;
}


/* ---- self-signed certificate ---- */

static int san_append(char *san, size_t size, const char *name, size_t len)
{
	char tmp[256];
	struct sa sa;
	size_t i, n = strlen(san);
	int r;

	if (!len || len >= sizeof(tmp))
		return EINVAL;
	for (i = 0; i < len; i++) {
		char ch = name[i];
		bool ok = (ch >= 'a' && ch <= 'z') ||
			  (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' ||
			  ch == ':' || ch == '*' || ch == '_';
		if (!ok)
			return EINVAL;
	}
	memcpy(tmp, name, len);
	tmp[len] = '\0';
	r = snprintf(san + n, size - n, "%s%s:%s", n ? "," : "",
		     sa_set_str(&sa, tmp, 0) == 0 ? "IP" : "DNS", tmp);
	return r < 0 || (size_t)r >= size - n ? EINVAL : 0;
}


static int x509_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return EINVAL;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : ENOMEM;
}


static int pem_write(const char *path, mode_t mode, EVP_PKEY *key, X509 *x)
{
	FILE *f;
	int fd, ok;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return errno_nz();
	(void)fchmod(fd, mode);
	f = fdopen(fd, "w");
	if (!f) {
		int err = errno_nz();
		(void)close(fd);
		return err;
	}
	if (key)
		ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	else
		ok = PEM_write_X509(f, x);
	if (fclose(f) != 0)
		ok = 0;
	return ok ? 0 : EIO;
}


/**
 * Create a self-signed certificate and key for a TLS listener (SIP or
 * Diameter): P-256, ten years, serverAuth and clientAuth.
 *
 * @param certpath  PEM certificate to write
 * @param keypath   PEM private key to write (mode 0600)
 * @param cn        "host[,host|ip...]": CN and subjectAltName entries
 * @return 0, EINVAL (bad name list), or an errno from writing the files
 */
int tls_selfsigned(const char *certpath, const char *keypath, const char *cn)
{
	char san[1024] = "", first[256];
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	BIGNUM *bn = NULL;
	X509_NAME *name;
	const char *p, *comma;
	size_t flen;
	int err = 0;

	if (!certpath || !keypath || !cn || !*cn)
		return EINVAL;
	for (p = cn; *p; p = comma + 1) {
		comma = strchr(p, ',');
		if (!comma)
			comma = p + strlen(p);
		err = san_append(san, sizeof(san), p, (size_t)(comma - p));
		if (err)
			return err;
		if (!*comma)
			break;
	}
	comma = strchr(cn, ',');
	flen = comma ? (size_t)(comma - cn) : strlen(cn);
	memcpy(first, cn, flen); /* flen < 256: checked by san_append */
	first[flen] = '\0';

	ERR_clear_error();
	key = EVP_EC_gen("P-256");
	x = X509_new();
	bn = BN_new();
	if (!key || !x || !bn) {
		err = ENOMEM;
		goto out;
	}
	if (!X509_set_version(x, X509_VERSION_3) ||
	    !BN_rand(bn, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
	    !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 86400) ||
	    !X509_set_pubkey(x, key)) {
		err = ENOMEM;
		goto out;
	}
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
					(const unsigned char *)"entims", -1, -1,
					0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					(const unsigned char *)first, -1, -1,
					0) ||
	    !X509_set_issuer_name(x, name)) {
		err = EINVAL;
		goto out;
	}
	err = x509_ext(x, NID_subject_alt_name, san);
	if (!err)
		err = x509_ext(x, NID_basic_constraints, "critical,CA:FALSE");
	if (!err)
		err = x509_ext(x, NID_key_usage,
			       "critical,digitalSignature,keyAgreement");
	if (!err)
		err = x509_ext(x, NID_ext_key_usage, "serverAuth,clientAuth");
	if (!err)
		err = x509_ext(x, NID_subject_key_identifier, "hash");
	if (err)
		goto out;
	if (!X509_sign(x, key, EVP_sha256())) {
		err = EINVAL;
		goto out;
	}
	err = pem_write(keypath, 0600, key, NULL);
	if (!err)
		err = pem_write(certpath, 0644, NULL, x);
out:
	if (err)
		tls_log_errors("self-signed certificate", NULL);
	BN_free(bn);
	X509_free(x);
	EVP_PKEY_free(key);
	return err;
}
