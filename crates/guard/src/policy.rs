//! What to do with a score: the deployment's policy.

use serde::{Deserialize, Serialize};

/// The action a policy allows: `off` never looks, `flag` passes a suspicious turn to the model
/// marked as untrusted (and logs it), `block` answers it with a fixed notice instead.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Off,
    #[default]
    Flag,
    Block,
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "off" => Ok(Self::Off),
            "flag" => Ok(Self::Flag),
            "block" => Ok(Self::Block),
            _ => Err(format!("unknown guard policy {s:?} (off, flag or block)")),
        }
    }
}

/// What happens to one text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Allow,
    Flag,
    Block,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Flag => "flag",
            Self::Block => "block",
        }
    }
}

/// A mode with its thresholds on the detector's score.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    pub mode: Mode,
    /// Scores at or above this are flagged (and, in `block` mode, blocked when at or above
    /// `block_at` too).
    pub flag_at: f32,
    pub block_at: f32,
}

impl Policy {
    /// `mode` with the thresholds shipped with the detector.
    pub fn new(mode: Mode, flag_at: f32, block_at: f32) -> Self {
        Self {
            mode,
            flag_at,
            block_at,
        }
    }

    pub fn verdict(&self, score: f32) -> Verdict {
        match self.mode {
            Mode::Off => Verdict::Allow,
            Mode::Block if score >= self.block_at => Verdict::Block,
            Mode::Flag | Mode::Block if score >= self.flag_at => Verdict::Flag,
            _ => Verdict::Allow,
        }
    }
}

/// The fixed answer to a blocked turn.
pub const BLOCKED_REPLY: &str = "I can't help with that request: it looks like an attempt to \
change my instructions. Feel free to ask something else.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_follow_mode_and_thresholds() {
        let p = |m| Policy::new(m, 0.5, 0.8);
        assert_eq!(p(Mode::Off).verdict(1.0), Verdict::Allow);
        assert_eq!(p(Mode::Flag).verdict(0.49), Verdict::Allow);
        assert_eq!(p(Mode::Flag).verdict(0.5), Verdict::Flag);
        assert_eq!(p(Mode::Flag).verdict(0.99), Verdict::Flag);
        assert_eq!(p(Mode::Block).verdict(0.6), Verdict::Flag);
        assert_eq!(p(Mode::Block).verdict(0.8), Verdict::Block);
        assert_eq!("block".parse::<Mode>(), Ok(Mode::Block));
        assert!("deny".parse::<Mode>().is_err());
    }
}
