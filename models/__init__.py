"""What is learned and how it predicts: genres, bundles, media decoding, encoders, fusion."""
