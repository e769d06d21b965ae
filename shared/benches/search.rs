//! The local search index on 50,000 messages (#19): how long building it,
//! storing and reading it back, and typical queries take, and how large it
//! is stored (printed, and in `target/criterion/search-index-size.txt`).
//! The history is made up: 200 chats, 3–24 words a message drawn from a
//! 6,000-word vocabulary with a Zipf-like skew, as chat text is.
//! `cargo bench -p courier-shared --bench search`.

#[cfg(not(target_arch = "wasm32"))]
mod search {
    use courier_shared::client::chat::{ChatId, Message};
    use courier_shared::client::search::SearchIndex;
    use courier_shared::ids::{MessageId, UserId};
    use criterion::Criterion;
    use std::hint::black_box;

    /// Messages in the history searched.
    const MESSAGES: u64 = 50_000;
    const VOCABULARY: usize = 6_000;

    /// A small deterministic generator (xorshift), so every run indexes the
    /// same history.
    struct Dice(u64);

    impl Dice {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        /// A word index, skewed towards the common words.
        fn word(&mut self) -> usize {
            let u = (self.next() % 1_000_000) as f64 / 1_000_000.0;
            ((VOCABULARY as f64).powf(u) as usize).min(VOCABULARY - 1)
        }
    }

    /// The vocabulary's `n`th word: letters spelling `n`, 3–9 of them.
    fn word(n: usize) -> String {
        let mut left = n + 1;
        let mut out = String::new();
        while left > 0 || out.len() < 3 {
            out.push((b'a' + (left % 26) as u8) as char);
            left /= 26;
        }
        out
    }

    /// The made-up history.
    pub fn history() -> Vec<Message> {
        let mut dice = Dice(0x9e37_79b9_7f4a_7c15);
        let words: Vec<String> = (0..VOCABULARY).map(word).collect();
        (0..MESSAGES)
            .map(|n| {
                let chat = ChatId::User(UserId(1 + dice.next() % 200));
                let length = 3 + dice.next() % 22;
                let text: Vec<&str> = (0..length).map(|_| words[dice.word()].as_str()).collect();
                let id = MessageId::v7(1_700_000_000_000 + n * 1_000, [n as u8; 10]);
                Message::outgoing(id, chat, text.join(" "))
            })
            .collect()
    }

    fn build(history: &[Message]) -> SearchIndex {
        let mut index = SearchIndex::default();
        for message in history {
            index.add(message);
        }
        index
    }

    pub fn index(c: &mut Criterion) {
        let history = history();
        let index = build(&history);
        let stored = index.to_bytes();
        let size = format!(
            "search index: {} messages, {} words, {} bytes stored ({:.1} bytes a message)\n",
            index.len(),
            index.word_count(),
            stored.len(),
            stored.len() as f64 / index.len() as f64
        );
        print!("{size}");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/criterion");
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join("search-index-size.txt"), &size);

        let mut group = c.benchmark_group("search 50k messages");
        group.sample_size(10);
        group.bench_function("build the index", |b| b.iter(|| build(black_box(&history))));
        group.bench_function("store (encode)", |b| b.iter(|| index.to_bytes()));
        group.bench_function("read back (decode)", |b| {
            b.iter(|| SearchIndex::from_bytes(black_box(&stored)).expect("decodes"))
        });
        group.finish();

        let mut group = c.benchmark_group("query 50k messages");
        let (common, rare) = (word(1), word(5_000));
        let pair = format!("{} {}", word(3), word(40));
        let chat = Some(ChatId::User(UserId(7)));
        for (name, query, only) in [
            ("a common word", common.as_str(), None),
            ("a rare word", rare.as_str(), None),
            ("two words", pair.as_str(), None),
            ("a one-letter prefix", "b", None),
            ("a common word in one chat", common.as_str(), chat),
        ] {
            println!(
                "{name} ({query:?}): {} candidates",
                index.candidates(query, only).len()
            );
            group.bench_function(name, |b| {
                b.iter(|| index.candidates(black_box(query), only))
            });
        }
        group.finish();
    }
}

#[cfg(not(target_arch = "wasm32"))]
criterion::criterion_group!(benches, search::index);
#[cfg(not(target_arch = "wasm32"))]
criterion::criterion_main!(benches);

#[cfg(target_arch = "wasm32")]
fn main() {}
