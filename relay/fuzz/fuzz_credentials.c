/*
 * fuzz_credentials.c
 *		Fuzz target: the credentials answers, from the container endpoint
 *		(ECS, EKS Pod Identity) or from EC2 instance metadata (IMDSv2: a
 *		session token, the role name, the role's credentials), scripted
 *		(fz_http_script) through credentials_get.  The input's first line
 *		picks the source ("container" or anything else: IMDS).  Credentials
 *		handed out must have a key and a secret.
 */
#include "aws_credentials.h"
#include "fz.h"

#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	fz_quiet();
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	unsetenv("AWS_EC2_METADATA_DISABLED");
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9/", 1);
	return 0;
}

static void
s_check(int rc, const aws_credentials *c, const char *err)
{
	if (rc < 0)
	{
		if (memchr(err, '\0', 512) == NULL || err[0] == '\0')
			fz_fail("failure without an error text");
		return;
	}
	if (c == NULL || c->access_key == NULL || c->secret_key == NULL || c->source == NULL)
		fz_fail("credentials without a key or secret");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	credentials_provider *p;
	const aws_credentials *c = NULL;
	char err[512];
	int rc;

	if (nl == NULL)
		return 0;
	if (nl - data == 9 && memcmp(data, "container", 9) == 0)
	{
		setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/v2/credentials/x", 1);
		setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "token", 1);
	}
	else
	{
		unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
		unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	}
	size -= (size_t) (nl + 1 - data);
	data = nl + 1;
	p = credentials_provider_new(err, sizeof(err));
	if (p == NULL)
		fz_fail("credentials_provider_new: %s", err);
	fz_http_script(data, size);
	rc = credentials_get(p, &c, err, sizeof(err));
	s_check(rc, c, err);
	/* again (cached or refreshed), then after an ExpiredToken answer */
	rc = credentials_get(p, &c, err, sizeof(err));
	s_check(rc, c, err);
	credentials_invalidate(p);
	rc = credentials_get(p, &c, err, sizeof(err));
	s_check(rc, c, err);
	credentials_provider_free(p);
	return 0;
}
