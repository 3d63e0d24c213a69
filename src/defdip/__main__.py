from defdip.cli import main

main()
