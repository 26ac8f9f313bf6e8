//! Statements built at run time with `$N` placeholders, which both databases take.
//! (sqlx's `QueryBuilder<Any>` writes `?`, which PostgreSQL refuses.)

use std::fmt::Write;

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::Any;

/// A bound value.
pub(crate) enum Param {
    Text(Option<String>),
    Int(i64),
}

impl From<&str> for Param {
    fn from(s: &str) -> Self {
        Param::Text(Some(s.to_string()))
    }
}

impl From<String> for Param {
    fn from(s: String) -> Self {
        Param::Text(Some(s))
    }
}

impl From<Option<String>> for Param {
    fn from(s: Option<String>) -> Self {
        Param::Text(s)
    }
}

impl From<i64> for Param {
    fn from(n: i64) -> Self {
        Param::Int(n)
    }
}

/// SQL text and the values its placeholders stand for, in order.
pub(crate) struct Sql {
    text: String,
    params: Vec<Param>,
}

impl Sql {
    pub(crate) fn new(text: &str) -> Sql {
        Sql {
            text: text.to_string(),
            params: Vec::new(),
        }
    }

    /// Appends SQL text.
    pub(crate) fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `value`.
    pub(crate) fn bind(&mut self, value: impl Into<Param>) -> &mut Sql {
        self.params.push(value.into());
        write!(self.text, "${}", self.params.len()).expect("writing to a String");
        self
    }

    /// Appends `(v1, v2, ...)` for one row, placeholders separated by commas.
    pub(crate) fn row(&mut self, values: Vec<Param>) -> &mut Sql {
        self.text.push('(');
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.bind(v);
        }
        self.text.push(')');
        self
    }

    /// The statement, with its values bound.
    pub(crate) fn query(self) -> Query<'static, Any, AnyArguments> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(self.text));
        for p in self.params {
            q = match p {
                Param::Text(s) => q.bind(s),
                Param::Int(n) => q.bind(n),
            };
        }
        q
    }
}
