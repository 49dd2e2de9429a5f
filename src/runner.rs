//! runner (TO BE WRITTEN)
