/**
 * @file prov_cli.h  `entims subscriber`, `entims ifc` and `entims
 * profile`: the command-line shell over HSS provisioning (hss/prov.h).
 */
#ifndef IMS_CMD_PROV_CLI_H
#define IMS_CMD_PROV_CLI_H

#include <stdbool.h>

#include "core/conf.h"

/* What the command needs from the configuration file. */
struct prov_cli_conf {
	char data_dir[CONF_STR_MAX];
	char store_url[CONF_STR_MAX]; /* [store] url; "" or "sqlite" */
};

/* Load the configuration (config NULL: the default file, if any) with
 * data_dir overriding [core] data_dir when given; print why on error. */
typedef int(prov_cli_conf_h)(const char *config, const char *data_dir,
			     struct prov_cli_conf *out);

/* argv[1] is "subscriber", "ifc" or "profile".  Exit status: 0 done,
 * 1 refused or failed (a sentence on stderr), 2 bad usage. */
int prov_cli_main(int argc, char **argv, prov_cli_conf_h *confh);
bool prov_cli_is_command(const char *cmd);

#endif
