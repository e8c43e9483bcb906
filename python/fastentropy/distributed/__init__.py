"""fastentropy on a Dask cluster: exact n-gram profiles, the floor's n-gram table and
cross-entropy totals over sharded corpora, the same as one machine would compute.

Needs the extra ``pip install 'fastentropy[dask]'``; ``import fastentropy`` does not import
this package (nor dask). Every function takes ``client=`` (default: the current
``distributed.Client``).

Examples
--------
>>> import numpy as np
>>> from distributed import Client, LocalCluster
>>> from fastentropy import distributed as fed
>>> cluster = LocalCluster(n_workers=1, processes=False, dashboard_address=":0")
>>> with Client(cluster):
...     fed.ngram_profiles([np.array([5, 6, 5]), np.array([6, 5])], orders=[1])[1]
Profile(n=5, distinct=2, {2: 1, 3: 1})
>>> cluster.close()
"""

from ._floor import estimate_floor
from ._ngram import ngram_profiles
from ._xent import cross_entropy

__all__ = ["cross_entropy", "estimate_floor", "ngram_profiles"]
