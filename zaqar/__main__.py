from zaqar.cmd.server import main

main()
