//! Local full-text search over this device's decrypted history, with no
//! I/O: a [`SearchIndex`] maps each word to the messages that have it, and
//! a query finds the messages that have every one of its words (each as
//! the start of a word: "ban" finds "banana"), newest first. The index
//! never leaves the device; the web client keeps it sealed at rest like
//! the history. It may name messages that changed since they were indexed
//! (edited, deleted, disappeared): whoever shows a result checks the
//! message itself with [`matches`] first, so a stale entry is never shown.

use crate::client::chat::{ChatId, Message};
use crate::ids::MessageId;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Longest word kept, in characters (a longer one is cut to this).
pub const MAX_WORD_CHARS: usize = 32;
/// Longest excerpt shown around a hit, in characters.
const EXCERPT_CHARS: usize = 120;

/// The searchable text of `message`: none for a system line, a deleted or
/// hidden message, or one that could not be decrypted.
pub fn searchable(message: &Message) -> Option<&str> {
    if message.system || message.deleted || message.hidden {
        return None;
    }
    message.text.as_deref()
}

/// The words of `text` with their byte ranges: runs of letters and digits.
fn spans(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut start = None;
    text.char_indices()
        .chain(std::iter::once((text.len(), ' ')))
        .filter_map(move |(at, c)| match (c.is_alphanumeric(), start) {
            (true, None) => {
                start = Some(at);
                None
            }
            (false, Some(from)) => {
                start = None;
                Some((from, at))
            }
            _ => None,
        })
}

/// `word` lowercased and cut to [`MAX_WORD_CHARS`].
fn normal(word: &str) -> String {
    word.chars()
        .flat_map(char::to_lowercase)
        .take(MAX_WORD_CHARS)
        .collect()
}

/// The words of `text`, lowercased, each once.
pub fn words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = spans(text).map(|(a, b)| normal(&text[a..b])).collect();
    words.sort_unstable();
    words.dedup();
    words
}

/// Whether every word of `query` starts a word of `text`.
fn has_all(text: &str, query: &[String]) -> bool {
    let own = words(text);
    !query.is_empty() && query.iter().all(|q| own.iter().any(|w| w.starts_with(q)))
}

/// Whether `message`, as it is now, is a hit for `query`.
pub fn matches(message: &Message, query: &str) -> bool {
    searchable(message).is_some_and(|text| has_all(text, &words(query)))
}

/// Up to [`EXCERPT_CHARS`] of `text` around its first hit for `query`, as
/// pieces to show, each with whether it is a hit (to mark).
pub fn excerpt(text: &str, query: &str) -> Vec<(String, bool)> {
    let query = words(query);
    let hits: Vec<(usize, usize)> = spans(text)
        .filter(|&(a, b)| {
            let word = normal(&text[a..b]);
            query.iter().any(|q| word.starts_with(q.as_str()))
        })
        .collect();
    let first = hits.first().map_or(0, |&(a, _)| a);
    // Start a little before the first hit, on a character boundary.
    let lead = text[..first]
        .char_indices()
        .rev()
        .nth(EXCERPT_CHARS / 4)
        .map_or(0, |(at, _)| at);
    let end = text[lead..]
        .char_indices()
        .nth(EXCERPT_CHARS)
        .map_or(text.len(), |(at, _)| lead + at);
    let mut pieces = Vec::new();
    let mut at = lead;
    if lead > 0 {
        pieces.push(("…".to_owned(), false));
    }
    for (a, b) in hits.into_iter().filter(|&(a, b)| a >= lead && b <= end) {
        if a > at {
            pieces.push((text[at..a].to_owned(), false));
        }
        pieces.push((text[a..b].to_owned(), true));
        at = b;
    }
    if end > at {
        pieces.push((text[at..end].to_owned(), false));
    }
    if end < text.len() {
        pieces.push(("…".to_owned(), false));
    }
    pieces
}

/// Which messages have which words.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SearchIndex {
    /// The messages indexed, by number.
    docs: Vec<(ChatId, MessageId)>,
    /// Each word's messages, by number, ascending.
    terms: BTreeMap<String, Vec<u32>>,
    /// Each message's number (rebuilt when decoded).
    #[serde(skip)]
    numbers: HashMap<(ChatId, MessageId), u32>,
}

impl SearchIndex {
    /// An index decoded from `bytes` (as [`SearchIndex::to_bytes`] gave).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let mut index: Self = cbor4ii::serde::from_slice(bytes)
            .map_err(|e| format!("the search index is damaged: {e:?}"))?;
        index.numbers = (0_u32..)
            .zip(&index.docs)
            .map(|(n, doc)| (*doc, n))
            .collect();
        Ok(index)
    }

    /// The index as bytes to store (CBOR; larger than any frame, so not
    /// through the frame codec).
    pub fn to_bytes(&self) -> Vec<u8> {
        cbor4ii::serde::to_vec(Vec::new(), self).unwrap_or_default()
    }

    /// Messages indexed.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// Whether no message is indexed.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// Distinct words indexed.
    pub fn word_count(&self) -> usize {
        self.terms.len()
    }

    /// Indexes the words of `message` (again, after an edit: its new words
    /// are added, the old ones stay until [`matches`] drops the hit).
    pub fn add(&mut self, message: &Message) {
        let Some(text) = searchable(message) else {
            return;
        };
        let doc = (message.chat, message.id);
        let next = u32::try_from(self.docs.len()).unwrap_or(u32::MAX);
        let number = *self.numbers.entry(doc).or_insert(next);
        if number == next {
            self.docs.push(doc);
        }
        for word in words(text) {
            let list = self.terms.entry(word).or_default();
            if let Err(at) = list.binary_search(&number) {
                list.insert(at, number);
            }
        }
    }

    /// The messages (of `chat`, or of every chat) indexed with every word
    /// of `query`, newest first; check each with [`matches`] before
    /// showing it.
    pub fn candidates(&self, query: &str, chat: Option<ChatId>) -> Vec<(ChatId, MessageId)> {
        let mut found: Option<Vec<u32>> = None;
        for word in words(query) {
            let mut with: Vec<u32> = self
                .terms
                .range(word.clone()..)
                .take_while(|(term, _)| term.starts_with(word.as_str()))
                .flat_map(|(_, list)| list.iter().copied())
                .collect();
            with.sort_unstable();
            with.dedup();
            found = Some(match found {
                None => with,
                Some(before) => before
                    .into_iter()
                    .filter(|n| with.binary_search(n).is_ok())
                    .collect(),
            });
        }
        let mut docs: Vec<(ChatId, MessageId)> = found
            .unwrap_or_default()
            .into_iter()
            .filter_map(|n| self.docs.get(n as usize).copied())
            .filter(|(c, _)| chat.is_none_or(|only| only == *c))
            .collect();
        docs.sort_unstable_by_key(|&(_, id)| std::cmp::Reverse(id));
        docs
    }
}

#[cfg(test)]
mod tests {
    use super::{SearchIndex, excerpt, matches, words};
    use crate::client::chat::{ChatId, Message};
    use crate::ids::{MessageId, UserId};

    fn message(n: u64, chat: ChatId, text: &str) -> Message {
        Message::outgoing(MessageId::v7(1_000 + n, [n as u8; 10]), chat, text.into())
    }

    #[test]
    fn words_are_lowercased_runs_of_letters_and_digits() {
        assert_eq!(
            words("Ça va? Bananas, 42 BANANAS—naïve"),
            ["42", "bananas", "naïve", "va", "ça"]
        );
        assert_eq!(words("a").len(), 1);
        assert_eq!(words(&"x".repeat(100))[0].len(), super::MAX_WORD_CHARS);
    }

    #[test]
    fn a_query_finds_messages_with_every_word_as_a_word_start_newest_first() {
        let (ben, cy) = (ChatId::User(UserId(2)), ChatId::User(UserId(3)));
        let mut index = SearchIndex::default();
        let old = message(1, ben, "Banana bread tonight?");
        let new = message(2, cy, "I bought bananas and bread");
        let other = message(3, ben, "No bread today");
        for m in [&old, &new, &other] {
            index.add(m);
        }
        assert_eq!(index.candidates("ban", None), [(cy, new.id), (ben, old.id)]);
        assert_eq!(index.candidates("BREAD ban", Some(ben)), [(ben, old.id)]);
        assert!(
            index.candidates("anana", None).is_empty(),
            "word starts only"
        );
        assert!(index.candidates("  ", None).is_empty());
        // Stored and read back, it finds the same.
        let back = SearchIndex::from_bytes(&index.to_bytes()).unwrap();
        assert_eq!(back.candidates("bread", None).len(), 3);
        assert_eq!((back.len(), back.word_count()), (3, 9));
    }

    #[test]
    fn an_edit_is_found_by_its_new_words_and_stale_hits_do_not_match() {
        let ben = ChatId::User(UserId(2));
        let mut index = SearchIndex::default();
        let mut typo = message(1, ben, "see you at the libary");
        index.add(&typo);
        typo.text = Some("see you at the library".into());
        index.add(&typo);
        assert_eq!(index.len(), 1, "the same message, not a second one");
        assert_eq!(index.candidates("library", None), [(ben, typo.id)]);
        // The old word still names it; the message itself says no.
        assert_eq!(index.candidates("libary", None).len(), 1);
        assert!(!matches(&typo, "libary") && matches(&typo, "LIBR"));
        typo.deleted = true;
        assert!(!matches(&typo, "library"));
        let mut line = message(2, ben, "ana renamed the group");
        line.system = true;
        index.add(&line);
        assert!(index.candidates("renamed", None).is_empty());
    }

    #[test]
    fn an_excerpt_marks_the_hits_and_cuts_long_text_around_the_first() {
        assert_eq!(
            excerpt("Bananas are great, banana!", "banana"),
            [
                ("Bananas".to_owned(), true),
                (" are great, ".to_owned(), false),
                ("banana".to_owned(), true),
                ("!".to_owned(), false)
            ]
        );
        let long = format!("{} needle {}", "hay ".repeat(100), "straw ".repeat(100));
        let pieces = excerpt(&long, "needle");
        assert_eq!(pieces.first().unwrap().0, "…");
        assert_eq!(pieces.last().unwrap().0, "…");
        assert!(pieces.contains(&("needle".to_owned(), true)));
        let shown: usize = pieces.iter().map(|(p, _)| p.chars().count()).sum();
        assert!(shown <= 125, "{shown}");
    }
}
