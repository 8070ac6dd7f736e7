"""Metadata: a random forest over the catalogue's fields, the RandomForest row of the paper's Table 3.

The same fields, schema, matrix, explanations and saved format as the boosted model
(models.metadata); only each genre's trees differ. XGBoost grows the forest itself (its random-forest
mode: one round of `n_trees` parallel trees, each on a bootstrap-like row sample and a random share of
the columns at every split, learning rate 1), so the forest is saved in XGBoost's JSON like the
boosted trees, nothing is pickled, and `pred_contribs` gives exact contributions as before.
"""

import xgboost as xgb

from models.metadata import MetadataEncoder


class MetadataForestEncoder(MetadataEncoder):
    def __init__(self, n_trees: int = 200, max_depth: int = 8, row_share: float = 0.63,
                 column_share: float = 0.5, min_category_count: int = 3, max_categories: int = 20,
                 absent_copies: int = 1, seed: int = 0):
        self._store(n_trees=n_trees, max_depth=max_depth, row_share=row_share, column_share=column_share,
                    min_category_count=min_category_count, max_categories=max_categories,
                    absent_copies=absent_copies, seed=seed)

    def _fit_one(self, train: xgb.DMatrix, val: xgb.DMatrix | None, y_val=None) -> xgb.Booster:
        params = {"objective": "binary:logistic", "tree_method": "hist", "num_parallel_tree": self.n_trees,
                  "max_depth": self.max_depth, "eta": 1.0, "subsample": self.row_share,
                  "colsample_bynode": self.column_share, "lambda": 1e-5, "min_child_weight": 1.0,
                  "seed": self.seed, "nthread": 2, "verbosity": 0}
        # a forest is one round: nothing to stop early, validation is read only by the served-model choice
        return xgb.train(params, train, num_boost_round=1)
