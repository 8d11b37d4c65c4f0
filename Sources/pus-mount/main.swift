import PusMountCLI

PusMountCommand.runFromCommandLine()
