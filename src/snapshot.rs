//! snapshot (TO BE WRITTEN)
