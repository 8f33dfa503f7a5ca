//! Embeds the built console (`console/dist`, committed, so a build never
//! needs npm) in the server, brotli-compressed at compile time.

fn main() {
    // Embedded in debug builds too, so the tests serve what the release serves.
    memory_serve::load_directory_with_embed("../console/dist", true);
}
