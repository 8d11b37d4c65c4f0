import PusMountCLI

PusMountCommand.main()
