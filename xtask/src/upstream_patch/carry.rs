//! Which edits of upstream's file carry a fix: each difference attributed to an entry marked
//! "Send upstream: yes" becomes an edit that makes upstream say what we say there.

use std::collections::BTreeMap;

use crate::spec_diff::compare::{Difference, Kind, Note};
use crate::spec_diff::explain::{Category, Entry, SendUpstream};
use crate::spec_diff::node::{Node, Seg};
use crate::spec_diff::slice::Spec;
use crate::spec_edit::Edit;

/// What carrying the fixes takes.
#[derive(Default)]
pub struct Plan {
    /// The edits, each with the index of the entry it carries.
    pub edits: Vec<(Edit, usize)>,
    /// How many differences each carried entry (by index) had.
    pub carried: BTreeMap<usize, usize>,
    /// Differences of "yes" entries no edit can carry, as sentences (with the entry's id).
    pub by_hand: Vec<String>,
}

/// Whether `entry` is a fix to send upstream.
pub fn sent(entry: &Entry) -> bool {
    entry.category == Category::Fix && entry.send_upstream == Some(SendUpstream::Yes)
}

/// The edits of `upstream` that carry every difference attributed to a "yes" entry.
pub fn plan(
    upstream: &Spec,
    ours: &Spec,
    entries: &[Entry],
    differences: &[Difference],
    attribution: &[Option<usize>],
) -> Plan {
    let mut plan = Plan::default();
    for (difference, &explained) in differences.iter().zip(attribution) {
        let Some(index) = explained.filter(|&i| sent(&entries[i])) else {
            continue;
        };
        *plan.carried.entry(index).or_default() += 1;
        let id = &entries[index].id;
        let location = &difference.location;
        match (difference.note, difference.kind) {
            (None, Kind::Removed) => {
                plan.edits
                    .push((Edit::Remove(location.upstream.clone()), index));
            }
            (None, Kind::Added | Kind::Changed) => match ours.root.at(&location.ours) {
                Some(value) => plan
                    .edits
                    .push((Edit::Set(location.upstream.clone(), value.clone()), index)),
                None => plan.by_hand.push(format!(
                    "{id}: `{location}`: our value is not where the comparison found it"
                )),
            },
            (Some(Note::Count), Kind::Changed) => {
                match duplicates(upstream, ours, &location.upstream, &location.ours) {
                    Some(removals) => {
                        plan.edits
                            .extend(removals.into_iter().map(|edit| (edit, index)));
                    }
                    None => plan.by_hand.push(format!(
                        "{id}: `{location}`: upstream lists the value fewer times than we do"
                    )),
                }
            }
            (Some(_), _) => plan.by_hand.push(format!(
                "{id}: `{location}` ({}): not something a patch can carry; edit upstream by hand",
                difference.kind
            )),
        }
    }
    plan
}

/// Removals of the occurrences of a list value upstream has beyond the number we have (the
/// first ones stay); `None` when upstream does not have more.
fn duplicates(upstream: &Spec, ours: &Spec, up_at: &[Seg], our_at: &[Seg]) -> Option<Vec<Edit>> {
    let (Some((_, up_list)), Some((_, our_list))) = (up_at.split_last(), our_at.split_last())
    else {
        return None;
    };
    let value = upstream.root.at(up_at)?;
    let positions = |spec: &Spec, list: &[Seg]| -> Vec<usize> {
        spec.root
            .at(list)
            .and_then(Node::items)
            .unwrap_or_default()
            .iter()
            .enumerate()
            .filter(|(_, item)| item.same(value))
            .map(|(i, _)| i)
            .collect()
    };
    let keep = positions(ours, our_list).len();
    let found = positions(upstream, up_list);
    (found.len() > keep).then(|| {
        found[keep..]
            .iter()
            .map(|&i| {
                let mut path = up_list.to_vec();
                path.push(Seg::Index(i));
                Edit::Remove(path)
            })
            .collect()
    })
}
