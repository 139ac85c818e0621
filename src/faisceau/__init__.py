"""faisceau: converging indicators against trafficking in human beings for sexual exploitation.

Sub-packages follow the data's journey, and import only from those before them:

    store -> normalise -> ingest -> synth -> cli

``store`` owns the schema and connections, ``normalise`` turns what an ad showed into
canonical values, ``ingest`` reads collected ads into the store, ``synth`` makes synthetic
worlds, ``cli`` is the command line.
"""

__version__ = "0.1.0"
