from staktrakr.cli import main

main()
