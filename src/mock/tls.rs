//! HTTPS for `jobconform serve --tls`: a self-signed certificate generated at start (TO BE WRITTEN).
