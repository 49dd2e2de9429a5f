//! report (TO BE WRITTEN)
