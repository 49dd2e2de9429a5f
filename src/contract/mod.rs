//! contract (TO BE WRITTEN)
