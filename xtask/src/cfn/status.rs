//! Stack statuses, typed: what a status means for the next operation, and
//! which statuses an operation aims for.

use aws_sdk_cloudformation::types::{Stack, StackStatus};

/// What a stack's status means for the next operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// An operation is running; wait for it.
    InProgress,
    /// Settled after a successful operation (or a rolled-back update): it can be updated.
    Ready,
    /// Only a change set exists (a CREATE change set was made but never executed).
    Review,
    /// A failed first create: the stack can only be deleted.
    RollbackComplete,
    /// A failed update whose rollback failed: needs `ContinueUpdateRollback`.
    UpdateRollbackFailed,
    /// A delete failed (for example a non-empty bucket).
    DeleteFailed,
    /// Gone.
    Deleted,
    /// Any other failed state (`CREATE_FAILED`, `ROLLBACK_FAILED`, …).
    Failed,
}

impl Phase {
    pub(crate) fn of(status: &StackStatus) -> Self {
        use StackStatus as S;
        match status {
            S::CreateInProgress
            | S::DeleteInProgress
            | S::ImportInProgress
            | S::ImportRollbackInProgress
            | S::RollbackInProgress
            | S::UpdateCompleteCleanupInProgress
            | S::UpdateInProgress
            | S::UpdateRollbackCompleteCleanupInProgress
            | S::UpdateRollbackInProgress => Self::InProgress,
            S::CreateComplete
            | S::UpdateComplete
            | S::ImportComplete
            | S::UpdateRollbackComplete
            | S::ImportRollbackComplete => Self::Ready,
            S::ReviewInProgress => Self::Review,
            S::RollbackComplete => Self::RollbackComplete,
            S::UpdateRollbackFailed => Self::UpdateRollbackFailed,
            S::DeleteFailed => Self::DeleteFailed,
            S::DeleteComplete => Self::Deleted,
            _ => Self::Failed,
        }
    }
}

/// The stack's status; one CloudFormation never sent counts as unknown.
pub(crate) fn status(stack: &Stack) -> StackStatus {
    stack
        .stack_status()
        .cloned()
        .unwrap_or_else(|| StackStatus::from("UNKNOWN"))
}

/// What an operation aims for, so following it knows success from failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Goal {
    /// A create, update or import that completes.
    Complete,
    /// `ContinueUpdateRollback`: back at the previous template.
    RolledBack,
    /// A delete: the stack is gone.
    Deleted,
    /// Someone else's operation: whatever it ends in is not ours to judge.
    Settled,
}

impl Goal {
    /// Whether a settled stack in `status` reached this goal.
    pub(crate) fn reached(self, status: &StackStatus) -> bool {
        use StackStatus as S;
        match self {
            Self::Complete => matches!(
                status,
                S::CreateComplete | S::UpdateComplete | S::ImportComplete
            ),
            Self::RolledBack => *status == S::UpdateRollbackComplete,
            Self::Deleted => *status == S::DeleteComplete,
            Self::Settled => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases() {
        assert_eq!(
            Phase::of(&StackStatus::RollbackComplete),
            Phase::RollbackComplete
        );
        assert_eq!(
            Phase::of(&StackStatus::UpdateRollbackComplete),
            Phase::Ready
        );
        assert_eq!(
            Phase::of(&StackStatus::UpdateCompleteCleanupInProgress),
            Phase::InProgress
        );
        assert_eq!(Phase::of(&StackStatus::ReviewInProgress), Phase::Review);
    }

    #[test]
    fn goals() {
        assert!(Goal::Complete.reached(&StackStatus::UpdateComplete));
        assert!(!Goal::Complete.reached(&StackStatus::UpdateRollbackComplete));
        assert!(Goal::RolledBack.reached(&StackStatus::UpdateRollbackComplete));
        assert!(!Goal::RolledBack.reached(&StackStatus::UpdateRollbackFailed));
        assert!(Goal::Settled.reached(&StackStatus::RollbackComplete));
    }
}
