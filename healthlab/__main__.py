"""``python -m healthlab`` runs the ``healthlab`` command."""

from healthlab.cli import main

if __name__ == "__main__":
    main()
