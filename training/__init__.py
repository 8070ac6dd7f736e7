"""Offline batch jobs: dataset loading, synthetic benchmark, features, training, evaluation."""
