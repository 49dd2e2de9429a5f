//! Case loading (TO BE WRITTEN): discover `cases/**/*.json`, validate against
//! `schemas/case.schema.json`, deserialize, report every broken file with its JSON pointer.
