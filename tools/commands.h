// tools/commands.h. The sluice subcommands. Each takes argv after the subcommand name and
// returns the process exit code: 0 success, 1 failure at run time, 2 bad flags.
#pragma once

namespace sluice::tools {

int ReplayCommand(int argc, char** argv);
int GenCommand(int argc, char** argv);
int RegistryCommand(int argc, char** argv);
int AuditCommand(int argc, char** argv);
int LiveCommand(int argc, char** argv);
int BrokerCommand(int argc, char** argv);
int ProduceCommand(int argc, char** argv);
int ServeCommand(int argc, char** argv);

}  // namespace sluice::tools
