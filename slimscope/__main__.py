from slimscope.cli import main

main()
