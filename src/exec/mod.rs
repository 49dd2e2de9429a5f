//! exec (TO BE WRITTEN)
