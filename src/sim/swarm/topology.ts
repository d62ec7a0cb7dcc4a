import type { Catalog, Feature } from '../../swarm/index.js';

export const agentName = (f: string) => `agent/${f}`;

/**
 * The swarm's simulator nodes: coordinators 0..C-1 (one per category, in catalog order), then the feature
 * agents C..C+F-1 (catalog order); the client comes last.
 */
export class SwarmTopology {
  /** Coordinators, one per category. */
  readonly C: number;
  /** Feature agents, one per feature. */
  readonly F: number;
  readonly catIndex = new Map<string, number>();
  readonly featureNode = new Map<string, number>();
  /** A category's agent nodes. */
  readonly categoryAgents: number[][];
  /** Agent i's category (its coordinator's node). */
  readonly agentCategory: Int32Array;
  /** Node by name (coordinators and agents). */
  readonly nodeIndex = new Map<string, number>();
  private readonly names: string[];

  constructor(readonly catalog: Catalog) {
    const cat = catalog;
    const C = cat.categories.length;
    this.C = C;
    this.F = cat.features.length;
    cat.categories.forEach((c, i) => {
      this.catIndex.set(c.id, i);
    });
    cat.features.forEach((f, i) => {
      this.featureNode.set(f.id, C + i);
    });
    this.categoryAgents = cat.categories.map((c) => c.features.map((f) => this.featureNode.get(f)!));
    this.agentCategory = Int32Array.from(cat.features, (f) => this.catIndex.get(f.category)!);
    this.names = Array.from({ length: C + this.F }, (_, n) =>
      n < C ? cat.categories[n].coordinator : agentName(cat.features[n - C].id),
    );
    for (let n = 0; n < C + this.F; n++) this.nodeIndex.set(this.names[n], n);
  }

  nodeName(node: number): string {
    return this.names[node];
  }

  featureOf(node: number): Feature {
    return this.catalog.features[node - this.C];
  }

  /** The category of a coordinator or agent node. */
  categoryOfNode(node: number): number {
    return node < this.C ? node : this.agentCategory[node - this.C];
  }
}
