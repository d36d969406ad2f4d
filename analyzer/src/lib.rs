//! buildprof analyzer: polars analyses over the stored builds.
