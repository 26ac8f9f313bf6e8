//! Dependency scopes from a lockfile's graph, for lockfiles that record which packages the
//! project asks for (and whether as development dependencies) and what each package
//! depends on, but not the scope of each package itself (`uv.lock`, pnpm lockfile v9).

use holdfast_model::DependencyScope;

/// A dependency graph over package indexes.
#[derive(Debug, Default)]
pub(crate) struct Graph {
    edges: Vec<Vec<usize>>,
    prod_roots: Vec<usize>,
    dev_roots: Vec<usize>,
}

impl Graph {
    /// A graph of `n` packages without edges.
    pub(crate) fn new(n: usize) -> Self {
        Graph {
            edges: vec![Vec::new(); n],
            prod_roots: Vec::new(),
            dev_roots: Vec::new(),
        }
    }

    /// Package `from` depends on package `to`.
    pub(crate) fn edge(&mut self, from: usize, to: usize) {
        let n = self.edges.len();
        if let Some(e) = self.edges.get_mut(from) {
            if to < n {
                e.push(to);
            }
        }
    }

    /// The project depends on package `i` directly; `dev` when as a development dependency.
    pub(crate) fn root(&mut self, i: usize, dev: bool) {
        if i < self.edges.len() {
            if dev {
                self.dev_roots.push(i);
            } else {
                self.prod_roots.push(i);
            }
        }
    }

    /// The scope of every package: `Direct` for the project's own (non-dev) dependencies,
    /// `Transitive` for what they pull in, `Dev` for what only development dependencies
    /// pull in, `None` for packages no root reaches. Two passes over a work list, linear in
    /// the graph; no recursion.
    pub(crate) fn scopes(&self) -> Vec<Option<DependencyScope>> {
        let n = self.edges.len();
        let mut out: Vec<Option<DependencyScope>> = vec![None; n];
        let mut queue: Vec<usize> = Vec::new();
        for &r in &self.prod_roots {
            if out[r] != Some(DependencyScope::Direct) {
                out[r] = Some(DependencyScope::Direct);
                queue.push(r);
            }
        }
        while let Some(i) = queue.pop() {
            for &j in &self.edges[i] {
                if out[j].is_none() {
                    out[j] = Some(DependencyScope::Transitive);
                    queue.push(j);
                }
            }
        }
        for &r in &self.dev_roots {
            if out[r].is_none() {
                out[r] = Some(DependencyScope::Dev);
                queue.push(r);
            }
        }
        while let Some(i) = queue.pop() {
            for &j in &self.edges[i] {
                if out[j].is_none() {
                    out[j] = Some(DependencyScope::Dev);
                    queue.push(j);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DependencyScope::*;

    #[test]
    fn prod_wins_over_dev_and_cycles_end() {
        // 0 → 1 → 2 → 1 (cycle); dev root 3 → 2, 4; 5 unreachable.
        let mut g = Graph::new(6);
        g.edge(0, 1);
        g.edge(1, 2);
        g.edge(2, 1);
        g.edge(3, 2);
        g.edge(3, 4);
        g.edge(3, 99);
        g.root(0, false);
        g.root(3, true);
        assert_eq!(
            g.scopes(),
            vec![
                Some(Direct),
                Some(Transitive),
                Some(Transitive),
                Some(Dev),
                Some(Dev),
                None
            ]
        );
    }
}
